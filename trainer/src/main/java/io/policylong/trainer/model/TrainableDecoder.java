package io.policylong.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import io.policylong.model.checkpoint.InvalidCheckpointException;
import io.policylong.model.checkpoint.RandomCheckpoint;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.ParameterLayout;
import io.policylong.model.config.RotaryFrequencies;
import io.policylong.model.safetensors.SafetensorsCheckpoint;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.safetensors.SafetensorsWriter;
import io.policylong.model.safetensors.TensorEntry;
import io.policylong.trainer.data.PackedBatch;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A Qwen2/Llama decoder whose weights are trainable: the parameters are named as in a Hugging Face checkpoint
 * and the forward pass is written for autograd (no in-place operations, one attention matrix per layer with
 * a causal mask restricted to each packed piece, rotary positions that restart with every piece). It
 * computes the mean next-token cross-entropy of a {@link PackedBatch}. The forward pass follows the same
 * definition as the scoring runtime, so a saved checkpoint scores there exactly as it trains here (tested).
 */
public final class TrainableDecoder implements AutoCloseable {
    /** Default query rows per attention step. */
    public static final int DEFAULT_ATTENTION_CHUNK = 512;

    private final ModelConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> parameters;
    private final RotaryFrequencies rotary;
    private final DataType dataType;
    private int attentionChunk = DEFAULT_ATTENTION_CHUNK;

    private TrainableDecoder(ModelConfig config, NDManager manager, Map<String, NDArray> parameters,
            DataType dataType) {
        this.config = config;
        this.manager = manager;
        this.parameters = parameters;
        this.rotary = RotaryFrequencies.of(config);
        this.dataType = dataType;
    }

    /** A fresh model with random weights (see {@link RandomCheckpoint#tensors}). */
    public static TrainableDecoder random(ModelConfig config, long seed, double gain, Device device) {
        NDManager manager = NDManager.newBaseManager(device);
        Map<String, NDArray> parameters = new LinkedHashMap<>();
        for (SafetensorsWriter.Tensor t : RandomCheckpoint.tensors(config, seed, gain)) {
            NDArray array = manager.create(t.values(), new Shape(t.shape()));
            array.setName(t.name());
            parameters.put(t.name(), array);
        }
        return new TrainableDecoder(config, manager, parameters, DataType.FLOAT32);
    }

    /**
     * A fresh model initialised for training: embeddings and projections {@code N(0, 0.25 / hidden)} (0.03 at
     * hidden 256, larger for the narrow models of tests so that they still learn fast), the projections
     * that write into the residual stream ({@code o_proj}, {@code down_proj}) scaled down by
     * {@code sqrt(2 * layers)} so the stream does not grow with depth, norms 1 and biases 0. Small, uniform
     * starting weights let attention patterns form quickly (unlike {@link #random}, which is tuned to give an
     * untrained model varied distributions).
     */
    public static TrainableDecoder initialized(ModelConfig config, long seed, Device device) {
        SplittableRandom random = new SplittableRandom(seed);
        double std = 0.5 / Math.sqrt(config.hiddenSize());
        double residualStd = std / Math.sqrt(2.0 * config.numLayers());
        NDManager manager = NDManager.newBaseManager(device);
        Map<String, NDArray> parameters = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : ParameterLayout.of(config).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            float[] values = new float[n];
            if (name.endsWith("norm.weight")) {
                Arrays.fill(values, 1f);
            } else if (!name.endsWith(".bias")) {
                double scale = name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight") ? residualStd : std;
                for (int i = 0; i < n; i++) {
                    values[i] = (float) (scale * gaussian(random));
                }
            }
            NDArray array = manager.create(values, new Shape(shape));
            array.setName(name);
            parameters.put(name, array);
        }
        return new TrainableDecoder(config, manager, parameters, DataType.FLOAT32);
    }

    /** A standard normal sample (Box-Muller), reproducible from the seed. */
    static double gaussian(SplittableRandom random) {
        double u = 1.0 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    /**
     * Seeds the weights of an in-context copying circuit (see {@link InductionCircuitSeed}) into this fresh
     * model. Every weight stays trainable.
     *
     * @throws IllegalArgumentException when the model's shape cannot hold the circuit
     */
    public TrainableDecoder seedInductionCircuit(long seed) {
        Map<String, float[]> values = new LinkedHashMap<>();
        parameters.forEach((name, array) -> values.put(name, array.toFloatArray()));
        InductionCircuitSeed.apply(config, values, seed);
        parameters.forEach((name, array) -> array.set(values.get(name)));
        return this;
    }

    /** The weights of a checkpoint directory, to continue training. */
    public static TrainableDecoder load(Path directory, Device device) throws IOException {
        ModelConfig config = ModelConfig.load(directory);
        SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(directory);
        NDManager manager = NDManager.newBaseManager(device);
        try {
            Map<String, NDArray> parameters = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : ParameterLayout.of(config).entrySet()) {
                String name = e.getKey();
                TensorEntry entry = checkpoint.entry(name).orElseThrow(() -> new InvalidCheckpointException(
                        directory + ": tensor '" + name + "' is missing"));
                if (!entry.hasShape(e.getValue())) {
                    throw new InvalidCheckpointException(checkpoint.fileOf(name) + ": tensor '" + name + "' has shape "
                            + Arrays.toString(entry.shape()) + " but the configuration needs "
                            + Arrays.toString(e.getValue()));
                }
                FloatBuffer values = FloatBuffer.allocate(Math.toIntExact(entry.elementCount()));
                checkpoint.readFloat32(name, 0, values.capacity(), values);
                NDArray array = manager.create(values.array(), new Shape(e.getValue()));
                array.setName(name);
                parameters.put(name, array);
            }
            return new TrainableDecoder(config, manager, parameters, DataType.FLOAT32);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** A copy of this model in another floating point type (float64 for gradient checks). */
    public TrainableDecoder copyAs(DataType type) {
        NDManager copyManager = NDManager.newBaseManager(manager.getDevice());
        Map<String, NDArray> copy = new LinkedHashMap<>();
        parameters.forEach((name, array) -> {
            NDArray converted = array.toType(type, true);
            converted.attach(copyManager);
            converted.setName(name);
            copy.put(name, converted);
        });
        return new TrainableDecoder(config, copyManager, copy, type);
    }

    /** Sets the query rows per attention step (results do not depend on it beyond rounding). */
    public TrainableDecoder withAttentionChunk(int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("attention chunk must be positive");
        }
        this.attentionChunk = rows;
        return this;
    }

    /** The model configuration. */
    public ModelConfig config() {
        return config;
    }

    /** The trainable tensors by checkpoint name (a tied LM head is the embedding). */
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /** Number of trainable values. */
    public long parameterCount() {
        return parameters.values().stream().mapToLong(a -> a.getShape().size()).sum();
    }

    /** Marks every parameter as requiring gradients. */
    public void attachGradients() {
        parameters.values().forEach(p -> p.setRequiresGradient(true));
    }

    /** A manager for one step's intermediates; close it after the step. */
    public NDManager newStepManager() {
        return manager.newSubManager();
    }

    /**
     * Mean cross-entropy (nats per target token) of the batch, as a scalar in {@code step}'s manager: each target's
     * loss times its weight, summed, over the number of targets (so a weight above 1 adds to the loss exactly at
     * that target). Under a gradient collector this is differentiable with respect to every parameter.
     */
    public NDArray loss(NDManager step, PackedBatch batch) {
        int rows = batch.rows();
        int length = batch.length();
        NDArray ids = step.create(batch.tokens(), new Shape(rows, length));
        NDArray x = Embedding.embedding(ids, parameter("model.embed_tokens.weight"), SparseFormat.DENSE)
                .singletonOrThrow();
        NDArray positions = step.create(batch.positions(), new Shape(rows, length));
        NDArray[] rope = rotaryTables(step, positions, length);
        NDArray mask = attentionMask(step, batch);
        for (int i = 0; i < config.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            NDArray attention = attention(rmsNorm(x, parameter(p + "input_layernorm.weight")), p, rope, mask);
            x = x.add(attention);
            NDArray h = rmsNorm(x, parameter(p + "post_attention_layernorm.weight"));
            NDArray gate = linear(h, p + "mlp.gate_proj");
            NDArray up = linear(h, p + "mlp.up_proj");
            x = x.add(linear(gate.mul(Activation.sigmoid(gate)).mul(up), p + "mlp.down_proj"));
        }
        NDArray normalized = rmsNorm(x, parameter("model.norm.weight"));
        NDArray head = config.tieWordEmbeddings() ? parameter("model.embed_tokens.weight") : parameter("lm_head.weight");
        NDArray logProbs = Linear.linear(normalized, head).singletonOrThrow().logSoftmax(-1);
        long[] targets = new long[rows * length];
        float[] weights = new float[rows * length];
        int count = 0;
        for (int t = 0; t < targets.length; t++) {
            if (batch.hasTarget(t)) {
                targets[t] = batch.tokens()[t + 1];
                weights[t] = batch.targetWeight(t);
                count++;
            }
        }
        if (count == 0) {
            throw new IllegalArgumentException("the batch has no target tokens");
        }
        NDArray picked = logProbs.gather(step.create(targets, new Shape(rows, length, 1)), 2).reshape(rows, length);
        NDArray weight = step.create(weights, new Shape(rows, length)).toType(dataType, false);
        return picked.mul(weight).sum().neg().div(count);
    }

    private NDArray parameter(String name) {
        NDArray p = parameters.get(name);
        if (p == null) {
            throw new IllegalStateException("no parameter " + name);
        }
        return p;
    }

    private NDArray linear(NDArray x, String prefix) {
        NDArray bias = parameters.get(prefix + ".bias");
        NDArray weight = parameter(prefix + ".weight");
        return (bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias)).singletonOrThrow();
    }

    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray inverseRms = x.square().mean(new int[] {-1}, true).add(config.rmsNormEps()).pow(-0.5);
        return x.mul(inverseRms).mul(weight);
    }

    /** Cos and sin for each token's own position, {@code [rows, 1, length, headDim]}. */
    private NDArray[] rotaryTables(NDManager step, NDArray positions, int length) {
        double[] inv = rotary.inverseFrequencies();
        int half = inv.length;
        int dim = 2 * half;
        double[] cos = new double[length * dim];
        double[] sin = new double[length * dim];
        for (int pos = 0; pos < length; pos++) {
            for (int i = 0; i < half; i++) {
                double angle = pos * inv[i];
                double c = Math.cos(angle) * rotary.attentionScaling();
                double s = Math.sin(angle) * rotary.attentionScaling();
                cos[pos * dim + i] = c;
                cos[pos * dim + half + i] = c;
                sin[pos * dim + i] = s;
                sin[pos * dim + half + i] = s;
            }
        }
        Shape table = new Shape(length, dim);
        NDArray cosTable = step.create(cos, table).toType(dataType, false);
        NDArray sinTable = step.create(sin, table).toType(dataType, false);
        long rows = positions.getShape().get(0);
        Shape perToken = new Shape(rows, 1, length, dim);
        return new NDArray[] {cosTable.get(positions).reshape(perToken), sinTable.get(positions).reshape(perToken)};
    }

    /** Additive mask {@code [rows, 1, 1, length, length]}: 0 where key <= query in the same piece, -inf else. */
    private NDArray attentionMask(NDManager step, PackedBatch batch) {
        int rows = batch.rows();
        int length = batch.length();
        NDArray segments = step.create(batch.segments(), new Shape(rows, length));
        NDArray sameSegment = segments.reshape(rows, length, 1).eq(segments.reshape(rows, 1, length));
        NDArray index = step.arange(0, length, 1, DataType.INT64);
        NDArray causal = index.reshape(1, length, 1).gte(index.reshape(1, 1, length));
        NDArray allowed = sameSegment.logicalAnd(causal);
        Shape shape = allowed.getShape();
        NDArray mask = NDArrays.where(allowed, step.zeros(shape, dataType),
                step.full(shape, Float.NEGATIVE_INFINITY).toType(dataType, false));
        return mask.reshape(rows, 1, 1, length, length);
    }

    private NDArray attention(NDArray h, String p, NDArray[] rope, NDArray mask) {
        long rows = h.getShape().get(0);
        long length = h.getShape().get(1);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int group = config.groupSize();
        int dim = config.headDim();
        NDArray q = linear(h, p + "self_attn.q_proj").reshape(rows, length, heads, dim).transpose(0, 2, 1, 3);
        NDArray k = linear(h, p + "self_attn.k_proj").reshape(rows, length, kvHeads, dim).transpose(0, 2, 1, 3);
        NDArray v = linear(h, p + "self_attn.v_proj").reshape(rows, length, kvHeads, dim).transpose(0, 2, 1, 3);
        q = rotate(q, rope).mul(1.0 / Math.sqrt(dim));
        k = rotate(k, rope);
        NDArray grouped = q.reshape(rows, kvHeads, group, length, dim);
        NDArray keysT = k.transpose(0, 1, 3, 2);
        // Queries in chunks against the keys up to the chunk's end: the masked upper triangle beyond each chunk
        // is never computed, and the score blocks stay small.
        NDList chunks = new NDList();
        for (long start = 0; start < length; start += attentionChunk) {
            long end = Math.min(length, start + attentionChunk);
            long n = end - start;
            NDArray scores = grouped.get(new NDIndex(":, :, :, {}:{}", start, end))
                    .reshape(rows, kvHeads, group * n, dim)
                    .matMul(keysT.get(new NDIndex("..., :{}", end)))
                    .reshape(rows, kvHeads, group, n, end)
                    .add(mask.get(new NDIndex("..., {}:{}, :{}", start, end, end)));
            chunks.add(scores.softmax(-1).reshape(rows, kvHeads, group * n, end)
                    .matMul(v.get(new NDIndex(":, :, :{}", end)))
                    .reshape(rows, heads, n, dim));
        }
        NDArray context = (chunks.size() == 1 ? chunks.singletonOrThrow() : NDArrays.concat(chunks, 2))
                .transpose(0, 2, 1, 3)
                .reshape(rows, length, (long) heads * dim);
        return linear(context, p + "self_attn.o_proj");
    }

    private static NDArray rotate(NDArray x, NDArray[] rope) {
        long half = x.getShape().get(3) / 2;
        NDArray first = x.get(new NDIndex("..., :{}", half));
        NDArray second = x.get(new NDIndex("..., {}:", half));
        NDArray rotated = second.neg().concat(first, -1);
        return x.mul(rope[0]).add(rotated.mul(rope[1]));
    }

    /**
     * Writes {@code config.json} and {@code model.safetensors} (every parameter, in checkpoint order) into a
     * directory. With F32 the runtime loads exactly these values back.
     */
    public void saveWeights(Path directory, SafetensorsDType dtype) throws IOException {
        config.write(directory);
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            NDArray array = e.getValue();
            float[] values = array.toType(DataType.FLOAT32, false).toFloatArray();
            tensors.add(new SafetensorsWriter.Tensor(e.getKey(), array.getShape().getShape(), values));
        }
        SafetensorsWriter.write(directory.resolve(SafetensorsCheckpoint.SINGLE_FILE), tensors, dtype,
                Map.of("format", "pt"));
    }

    @Override
    public void close() {
        manager.close();
    }
}
