package io.policylong.cli;

import io.policylong.model.checkpoint.RandomCheckpoint;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.tokenizer.ByteLevelTokenizerJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong random-checkpoint}: writes a checkpoint directory with random weights and the byte-level
 * tokenizer, for trying the pipeline or testing a deployment without a trained model.
 */
@Command(name = "random-checkpoint", mixinStandardHelpOptions = true,
        description = "Write a checkpoint with random weights (Qwen2 shape) and the byte-level tokenizer.")
public final class RandomCheckpointCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to create.")
    Path out;

    @Option(names = "--preset", defaultValue = "tiny", paramLabel = "NAME",
            description = "tiny (byte vocabulary, 2 layers) or mid (~100M parameters, 32k vocabulary; no "
                    + "tokenizer, score token ids). Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--dtype", defaultValue = "bf16", paramLabel = "TYPE",
            description = "f32, f16 or bf16. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() throws Exception {
        ModelConfig config = switch (preset) {
            case "tiny" -> BenchScoreCommand.TINY;
            case "mid" -> BenchScoreCommand.MID;
            default -> throw new IllegalArgumentException("unknown preset '" + preset + "' (tiny or mid)");
        };
        SafetensorsDType type = SafetensorsDType.valueOf(dtype.toUpperCase(Locale.ROOT));
        Files.createDirectories(out);
        Path tokenizer = null;
        if (config.vocabSize() == ByteLevelTokenizerJson.VOCAB_SIZE) {
            tokenizer = out.resolve("tokenizer.json");
            ByteLevelTokenizerJson.write(tokenizer);
        }
        RandomCheckpoint.write(out, config, RandomCheckpoint.tensors(config, seed, 1.0), type, 0, null);
        spec.commandLine().getErr().printf("random-checkpoint: wrote %s (%s, %.2fM parameters, %s)%n", out,
                preset, config.parameterCount() / 1e6, type);
        return 0;
    }
}
