package io.policylong.model.testing;

import io.policylong.model.checkpoint.RandomCheckpoint;
import io.policylong.model.config.Architecture;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.safetensors.HalfFloats;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Tiny random checkpoints written as real safetensors files, with the exact weights the file holds. */
public final class TestCheckpoints {
    private TestCheckpoints() {
    }

    /** A written checkpoint and its weights as stored (after rounding to the file's dtype). */
    public record Written(Path directory, ModelConfig config, Map<String, float[]> weights) {
    }

    /** A small Qwen2-shaped configuration with grouped-query attention. */
    public static ModelConfig tinyQwen2(int vocab, boolean tied, RopeScaling scaling) {
        return new ModelConfig(Architecture.QWEN2, vocab, 32, 48, 2, 4, 2, 8, 1e-6, 10000.0, tied,
                true, false, false, 4096, scaling);
    }

    /** A small Llama-shaped configuration. */
    public static ModelConfig tinyLlama(int vocab, boolean tied, int kvHeads, boolean biases, RopeScaling scaling) {
        return new ModelConfig(Architecture.LLAMA, vocab, 32, 40, 2, 4, kvHeads, 8, 1e-5, 500000.0, tied,
                biases, biases, biases, 4096, scaling);
    }

    /** Writes a random checkpoint; {@code shardBytes > 0} writes shards of about that size. */
    public static Written write(Path directory, ModelConfig config, SafetensorsDType dtype, long shardBytes,
            long seed) throws IOException {
        List<SafetensorsWriter.Tensor> tensors = RandomCheckpoint.tensors(config, seed, 1.5);
        RandomCheckpoint.write(directory, config, tensors, dtype, shardBytes, null);
        Map<String, float[]> stored = new LinkedHashMap<>();
        for (SafetensorsWriter.Tensor t : tensors) {
            float[] v = t.values().clone();
            for (int i = 0; i < v.length; i++) {
                v[i] = switch (dtype) {
                    case F16 -> HalfFloats.f16ToFloat(HalfFloats.floatToF16(v[i]));
                    case BF16 -> HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(v[i]));
                    default -> v[i];
                };
            }
            stored.put(t.name(), v);
        }
        return new Written(directory, config, stored);
    }

    /** Deterministic pseudo-random token ids in [0, vocab). */
    public static long[] tokens(int length, int vocab, long seed) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        long[] ids = new long[length];
        for (int i = 0; i < length; i++) {
            ids[i] = random.nextInt(vocab);
        }
        return ids;
    }
}
