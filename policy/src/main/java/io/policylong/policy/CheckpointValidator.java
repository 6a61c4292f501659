package io.policylong.policy;

import io.policylong.model.checkpoint.InvalidCheckpointException;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.ParameterLayout;
import io.policylong.model.safetensors.SafetensorsCheckpoint;
import io.policylong.model.safetensors.TensorEntry;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Checks, without loading any weights, that a directory is a checkpoint the runtime can load: its
 * configuration is valid, its tokenizer file exists, every tensor the architecture needs is present with the
 * right shape and a float dtype, and (when one is expected) the weights digest matches.
 */
public final class CheckpointValidator {
    private CheckpointValidator() {
    }

    /**
     * Validates a checkpoint directory.
     *
     * @param expectedSha256 the announced weights digest, or null to skip that check
     * @throws InvalidCheckpointException naming the file and the problem
     */
    public static ModelConfig validate(Path directory, String expectedSha256) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new InvalidCheckpointException(directory + ": checkpoint directory does not exist");
        }
        ModelConfig config = ModelConfig.load(directory);
        if (!Files.isRegularFile(directory.resolve(CheckpointTokenizer.FILE_NAME))) {
            throw new InvalidCheckpointException(directory + ": no " + CheckpointTokenizer.FILE_NAME);
        }
        SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(directory);
        for (Map.Entry<String, long[]> e : ParameterLayout.of(config).entrySet()) {
            TensorEntry entry = weights.entry(e.getKey()).orElseThrow(() -> new InvalidCheckpointException(
                    directory + ": tensor '" + e.getKey() + "' is missing"));
            if (!entry.hasShape(e.getValue())) {
                throw new InvalidCheckpointException(weights.fileOf(e.getKey()) + ": tensor '" + e.getKey()
                        + "' has shape " + Arrays.toString(entry.shape()) + " but the configuration needs "
                        + Arrays.toString(e.getValue()));
            }
            if (!entry.dtype().isConvertibleToFloat32()) {
                throw new InvalidCheckpointException(weights.fileOf(e.getKey()) + ": tensor '" + e.getKey()
                        + "' has dtype " + entry.dtype() + ", but weights must be F32, F16 or BF16");
            }
        }
        if (expectedSha256 != null) {
            CheckpointDigest.verify(directory, expectedSha256);
        }
        return config;
    }
}
