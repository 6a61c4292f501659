package io.policylong.model.checkpoint;

import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.ParameterLayout;
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
        for (Map.Entry<String, long[]> e : ParameterLayout.of(config).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            double std;
            if (name.equals("model.embed_tokens.weight")) {
                std = 2 * gain / Math.sqrt(config.hiddenSize());
            } else if (name.endsWith("norm.weight")) {
                tensors.add(norm(name, random, (int) shape[0]));
                continue;
            } else if (name.endsWith(".bias")) {
                std = 0.1;
            } else {
                std = gain / Math.sqrt(shape[1]);
            }
            tensors.add(gaussian(name, random, std, shape));
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

    private static SafetensorsWriter.Tensor norm(String name, SplittableRandom random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) (1.0 + 0.2 * gaussian(random));
        }
        return new SafetensorsWriter.Tensor(name, new long[] {size}, values);
    }

    private static SafetensorsWriter.Tensor gaussian(String name, SplittableRandom random, double std, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] values = new float[Math.toIntExact(n)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (std * gaussian(random));
        }
        return new SafetensorsWriter.Tensor(name, shape, values);
    }

    /** Box-Muller; SplittableRandom has no nextGaussian on Java 17. */
    private static double gaussian(SplittableRandom random) {
        double u1 = random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
