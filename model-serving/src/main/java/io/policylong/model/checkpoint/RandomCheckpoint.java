package io.policylong.model.checkpoint;

import io.policylong.model.config.ModelConfig;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random weights for a configuration, written as a real checkpoint directory. Used for tests, benchmarks
 * and the example checkpoint; the weight scale is chosen so that next-token distributions vary from
 * position to position (a model initialised at the usual 0.02 would be almost uniform everywhere).
 */
public final class RandomCheckpoint {
    private RandomCheckpoint() {
    }

    /**
     * Generates every tensor of the configuration with the Hugging Face names, deterministically from the seed.
     * Matrices are Gaussian with standard deviation {@code gain / sqrt(fan_in)}; norm weights are
     * {@code 1 + 0.2 N(0,1)}; biases {@code 0.1 N(0,1)}; embeddings {@code 2 gain / sqrt(hidden)}, which gives
     * logits of standard deviation about {@code 2 gain} through a tied head.
     */
    public static List<SafetensorsWriter.Tensor> tensors(ModelConfig config, long seed, double gain) {
        SplittableRandom random = new SplittableRandom(seed);
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        int hidden = config.hiddenSize();
        int q = config.numAttentionHeads() * config.headDim();
        int kv = config.numKeyValueHeads() * config.headDim();
        int inter = config.intermediateSize();
        tensors.add(gaussian("model.embed_tokens.weight", random, 2 * gain / Math.sqrt(hidden), config.vocabSize(),
                hidden));
        for (int i = 0; i < config.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            tensors.add(norm(p + "input_layernorm.weight", random, hidden));
            tensors.add(matrix(p + "self_attn.q_proj.weight", random, gain, q, hidden));
            tensors.add(matrix(p + "self_attn.k_proj.weight", random, gain, kv, hidden));
            tensors.add(matrix(p + "self_attn.v_proj.weight", random, gain, kv, hidden));
            if (config.qkvBias()) {
                tensors.add(gaussian(p + "self_attn.q_proj.bias", random, 0.1, q));
                tensors.add(gaussian(p + "self_attn.k_proj.bias", random, 0.1, kv));
                tensors.add(gaussian(p + "self_attn.v_proj.bias", random, 0.1, kv));
            }
            tensors.add(matrix(p + "self_attn.o_proj.weight", random, gain, hidden, q));
            if (config.outputBias()) {
                tensors.add(gaussian(p + "self_attn.o_proj.bias", random, 0.1, hidden));
            }
            tensors.add(norm(p + "post_attention_layernorm.weight", random, hidden));
            tensors.add(matrix(p + "mlp.gate_proj.weight", random, gain, inter, hidden));
            tensors.add(matrix(p + "mlp.up_proj.weight", random, gain, inter, hidden));
            tensors.add(matrix(p + "mlp.down_proj.weight", random, gain, hidden, inter));
            if (config.mlpBias()) {
                tensors.add(gaussian(p + "mlp.gate_proj.bias", random, 0.1, inter));
                tensors.add(gaussian(p + "mlp.up_proj.bias", random, 0.1, inter));
                tensors.add(gaussian(p + "mlp.down_proj.bias", random, 0.1, hidden));
            }
        }
        tensors.add(norm("model.norm.weight", random, hidden));
        if (!config.tieWordEmbeddings()) {
            tensors.add(matrix("lm_head.weight", random, gain, config.vocabSize(), hidden));
        }
        return tensors;
    }

    /**
     * Writes {@code config.json}, the weights ({@code model.safetensors}, or shards of at most
     * {@code maxShardBytes} when it is positive) and, when given, a copy of a {@code tokenizer.json}.
     */
    public static void write(Path directory, ModelConfig config, List<SafetensorsWriter.Tensor> tensors,
            SafetensorsDType dtype, long maxShardBytes, Path tokenizerJson) throws IOException {
        Files.createDirectories(directory);
        config.write(directory);
        if (maxShardBytes > 0) {
            SafetensorsWriter.writeSharded(directory, tensors, dtype, maxShardBytes);
        } else {
            SafetensorsWriter.write(directory.resolve("model.safetensors"), tensors, dtype, Map.of("format", "pt"));
        }
        if (tokenizerJson != null) {
            Files.copy(tokenizerJson, directory.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static SafetensorsWriter.Tensor matrix(String name, SplittableRandom random, double gain, int rows,
            int columns) {
        return gaussian(name, random, gain / Math.sqrt(columns), rows, columns);
    }

    private static SafetensorsWriter.Tensor norm(String name, SplittableRandom random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) (1.0 + 0.2 * gaussian(random));
        }
        return new SafetensorsWriter.Tensor(name, new long[] {size}, values);
    }

    private static SafetensorsWriter.Tensor gaussian(String name, SplittableRandom random, double std, int... shape) {
        long n = 1;
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            n *= shape[i];
            dims[i] = shape[i];
        }
        float[] values = new float[Math.toIntExact(n)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (std * gaussian(random));
        }
        return new SafetensorsWriter.Tensor(name, dims, values);
    }

    /** Box-Muller; SplittableRandom has no nextGaussian on Java 17. */
    private static double gaussian(SplittableRandom random) {
        double u1 = random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
