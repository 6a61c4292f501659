package io.policylong.model.cli;

import io.policylong.model.runtime.ChunkSettings;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Command line options shared by every command that scores with a model. */
public final class ScoringOptions {
    @Option(names = "--device", defaultValue = "auto", paramLabel = "DEVICE",
            description = "auto (GPU when one is found, else CPU), cpu, gpu or gpu:N. Default: ${DEFAULT-VALUE}.")
    public String device;

    @Option(names = "--max-batch-tokens", defaultValue = "8192", paramLabel = "N",
            description = "Token budget of one forward pass (padded tokens); longer sequences run alone. "
                    + "Default: ${DEFAULT-VALUE}.")
    public long maxBatchTokens;

    @Option(names = "--max-delay-ms", defaultValue = "20", paramLabel = "MS",
            description = "Longest a sequence waits for others to fill its batch. Default: ${DEFAULT-VALUE}.")
    public long maxDelayMs;

    @Option(names = "--queue", defaultValue = "256", paramLabel = "N",
            description = "Sequences that may wait for a batch before submission blocks. Default: ${DEFAULT-VALUE}.")
    public int queueCapacity;

    @Option(names = "--attention-chunk", defaultValue = "512", paramLabel = "N",
            description = "Query positions per attention step. Default: ${DEFAULT-VALUE}.")
    public int attentionChunk;

    @Option(names = "--mlp-chunk", defaultValue = "2048", paramLabel = "N",
            description = "Positions per MLP step. Default: ${DEFAULT-VALUE}.")
    public int mlpChunk;

    @Option(names = "--entropy-chunk", defaultValue = "512", paramLabel = "N",
            description = "Positions per logits-to-entropy step. Default: ${DEFAULT-VALUE}.")
    public int entropyChunk;

    /** The chunk settings these options describe. */
    public ChunkSettings chunks() {
        return new ChunkSettings(attentionChunk, mlpChunk, entropyChunk);
    }

    /** The batching deadline. */
    public Duration maxDelay() {
        return Duration.ofMillis(maxDelayMs);
    }
}
