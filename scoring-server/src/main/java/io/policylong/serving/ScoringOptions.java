package io.policylong.serving;

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

    @Option(names = "--attention-block-mib", defaultValue = "8", paramLabel = "MIB",
            description = "Size of one block of attention scores (sets the query rows per attention step). "
                    + "Default: ${DEFAULT-VALUE}.")
    public double attentionBlockMib;

    @Option(names = "--mlp-block-mib", defaultValue = "32", paramLabel = "MIB",
            description = "Size of one block of MLP activations (sets the positions per MLP step). "
                    + "Default: ${DEFAULT-VALUE}.")
    public double mlpBlockMib;

    @Option(names = "--entropy-block-mib", defaultValue = "32", paramLabel = "MIB",
            description = "Size of one block of logits (sets the positions per logits-to-entropy step). "
                    + "Default: ${DEFAULT-VALUE}.")
    public double entropyBlockMib;

    /** The chunk settings these options describe. */
    public ChunkSettings chunks() {
        return ChunkSettings.ofMebibytes(attentionBlockMib, mlpBlockMib, entropyBlockMib);
    }

    /** The batching deadline. */
    public Duration maxDelay() {
        return Duration.ofMillis(maxDelayMs);
    }
}
