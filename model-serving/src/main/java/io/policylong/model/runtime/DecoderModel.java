package io.policylong.model.runtime;

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
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RotaryFrequencies;
import io.policylong.model.safetensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A Qwen2/Llama decoder in DJL: token embedding, then per layer RMSNorm, grouped-query causal self-attention
 * with rotate-half rotary embeddings, a residual add, RMSNorm, a SwiGLU MLP and a residual add; a final
 * RMSNorm and the (tied or separate) LM head are applied by the caller on the positions it needs.
 *
 * <p>Batches are right-padded: every row uses positions {@code 0..L-1} (or, for one sequence continued from a
 * {@link KeyValueCache}, the positions after the cached ones), and because attention is causal a
 * real token never sees the padding after it, so no padding mask is needed and results for real positions
 * do not depend on what else is in the batch. Attention runs per sequence, up to its real length, in query
 * chunks against the keys up to the end of the chunk; the MLP runs in position chunks; so memory stays
 * linear in length (see {@link ChunkSettings}).
 */
public final class DecoderModel implements AutoCloseable {
    private final ModelConfig config;
    private final NDManager manager;
    private final DecoderWeights weights;
    private final RotaryFrequencies rotary;
    private final float attentionScale;
    private final ComputePrecision precision;

    private DecoderModel(ModelConfig config, NDManager manager, DecoderWeights weights, ComputePrecision precision) {
        this.config = config;
        this.manager = manager;
        this.weights = weights;
        this.precision = precision;
        this.rotary = RotaryFrequencies.of(config);
        this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
    }

    /** Loads {@code config.json} and the safetensors weights of a checkpoint directory onto a device. */
    public static DecoderModel load(Path checkpointDirectory, Device device) throws IOException {
        ModelConfig config = ModelConfig.load(checkpointDirectory);
        return load(checkpointDirectory, config, device);
    }

    /** Loads the weights of a checkpoint directory for a given configuration, in float32. */
    public static DecoderModel load(Path checkpointDirectory, ModelConfig config, Device device) throws IOException {
        return load(checkpointDirectory, config, device, ComputePrecision.FLOAT32);
    }

    /** Loads the weights of a checkpoint directory for a given configuration, to run in {@code precision}. */
    public static DecoderModel load(Path checkpointDirectory, ModelConfig config, Device device,
            ComputePrecision precision) throws IOException {
        SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(checkpointDirectory);
        NDManager manager = NDManager.newBaseManager(device);
        try {
            DecoderWeights weights = DecoderWeights.load(checkpoint, config, manager, precision.type());
            return new DecoderModel(config, manager, weights, precision);
        } catch (IOException | RuntimeException | Error e) {
            manager.close();
            throw e;
        }
    }

    /** The model configuration. */
    public ModelConfig config() {
        return config;
    }

    /** The precision the forward pass runs in. */
    public ComputePrecision precision() {
        return precision;
    }

    /** The device the weights live on. */
    public Device device() {
        return manager.getDevice();
    }

    /** A new manager for one forward pass; close it to free every intermediate. */
    public NDManager newBatchManager() {
        return manager.newSubManager();
    }

    /**
     * Runs all decoder layers over right-padded token ids {@code [batch, length]} (int64) whose real lengths
     * are {@code lengths}, and returns the residual stream {@code [batch, length, hidden]} before the final
     * norm, in the ids' manager. Attention skips the padding (its rows hold zeros); values at padded positions
     * are meaningless.
     */
    public NDArray hiddenStates(NDArray ids, int[] lengths, ChunkSettings chunks) {
        return forward(ids, lengths, chunks, null);
    }

    /** An empty key/value cache of this model, for {@link #hiddenStates(NDArray, KeyValueCache, ChunkSettings)}. */
    public KeyValueCache newCache() {
        return new KeyValueCache(manager.newSubManager(), weights.layers().size());
    }

    /**
     * Runs all decoder layers over the token ids {@code [1, n]} (int64) that follow the sequence {@code cache}
     * holds, at the positions after it, and appends their keys and values to the cache: the residual stream
     * {@code [1, n, hidden]} before the final norm, in the ids' manager: what the whole sequence run at once gives
     * at these positions, up to rounding. A step that fails leaves the cache as it was.
     */
    public NDArray hiddenStates(NDArray ids, KeyValueCache cache, ChunkSettings chunks) {
        if (ids.getShape().get(0) != 1) {
            throw new IllegalArgumentException("a key/value cache holds one sequence, not " + ids.getShape().get(0));
        }
        long past = cache.length();
        try {
            NDArray hidden = forward(ids, new int[] {Math.toIntExact(ids.getShape().get(1))}, chunks, cache);
            cache.advance(ids.getShape().get(1));
            return hidden;
        } catch (RuntimeException | Error e) {
            // Layers before the failure have appended already: undo that, or later steps would attend to them.
            cache.truncate(past);
            throw e;
        }
    }

    private NDArray forward(NDArray ids, int[] lengths, ChunkSettings chunks, KeyValueCache cache) {
        NDManager batch = ids.getManager();
        long length = ids.getShape().get(1);
        long batchSize = ids.getShape().get(0);
        if (lengths.length != batchSize) {
            throw new IllegalArgumentException(lengths.length + " lengths for a batch of " + batchSize);
        }
        long past = cache == null ? 0 : cache.length();
        NDList rope = inPrecision(RotaryTables.create(batch, rotary, Math.toIntExact(past),
                Math.toIntExact(length)));
        // Chunks are sized by the keys they attend to: the cached ones count too.
        int attentionRows = chunks.attentionRows(1, config.numAttentionHeads(), past + length);
        int mlpRows = chunks.mlpRows(batchSize, config.intermediateSize(), length);
        NDArray mask = causalMask(batch, Math.min(attentionRows, length));
        NDArray x = Embedding.embedding(ids, weights.embedding(), SparseFormat.DENSE).singletonOrThrow();
        for (int i = 0; i < weights.layers().size(); i++) {
            DecoderWeights.Layer layer = weights.layers().get(i);
            try (NDManager scope = batch.newSubManager()) {
                x.attach(scope);
                NDArray attention = attention(rmsNorm(x, layer.inputNorm()), lengths, layer, rope, mask,
                        attentionRows, cache, i);
                NDArray afterAttention = attention.addi(x);
                NDArray mlp = mlp(rmsNorm(afterAttention, layer.postAttentionNorm()), layer, mlpRows);
                NDArray next = mlp.addi(afterAttention);
                next.attach(batch);
                x = next;
            }
        }
        rope.close();
        mask.close();
        return x;
    }

    /** Applies the final RMSNorm and the LM head to hidden rows {@code [..., hidden]}: the logits, in float32. */
    public NDArray logits(NDArray hiddenRows) {
        NDArray normalized = rmsNorm(hiddenRows, weights.finalNorm());
        NDArray logits = Linear.linear(normalized, weights.lmHead()).singletonOrThrow();
        return precision == ComputePrecision.FLOAT32 ? logits : logits.toType(DataType.FLOAT32, false);
    }

    /** RMSNorm with its statistics in float32 whatever the compute precision (a bfloat16 mean of squares drifts). */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        if (precision == ComputePrecision.FLOAT32) {
            NDArray inverseRms = x.square().mean(new int[] {-1}, true).addi(config.rmsNormEps()).powi(-0.5);
            return x.mul(inverseRms).muli(weight);
        }
        NDArray wide = x.toType(DataType.FLOAT32, false);
        NDArray inverseRms = wide.square().mean(new int[] {-1}, true).addi(config.rmsNormEps()).powi(-0.5);
        return wide.muli(inverseRms).toType(precision.type(), false).muli(weight);
    }

    /** Tables built in float32, converted to the compute precision (mixing types would promote to float32). */
    private NDList inPrecision(NDList tables) {
        if (precision == ComputePrecision.FLOAT32) {
            return tables;
        }
        NDList converted = new NDList();
        for (NDArray t : tables) {
            converted.add(t.toType(precision.type(), false));
            t.close();
        }
        return converted;
    }

    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        NDList out = bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias);
        return out.singletonOrThrow();
    }

    /**
     * The additive causal mask of a chunk's diagonal block, {@code [rows, rows]}: 0 where the key is at or
     * before the query, -inf after it. Keys before the chunk are visible to every query of the chunk.
     */
    private static NDArray causalMask(NDManager manager, long rows) {
        try (NDManager temp = manager.newSubManager()) {
            NDArray queries = temp.arange(0, rows, 1, DataType.INT64).reshape(rows, 1);
            NDArray keys = temp.arange(0, rows, 1, DataType.INT64).reshape(1, rows);
            NDArray future = keys.gt(queries);
            Shape shape = future.getShape();
            NDArray mask = NDArrays.where(future, temp.full(shape, Float.NEGATIVE_INFINITY), temp.zeros(shape));
            // The mask is added to float32 scores (the softmax runs in float32 whatever the compute precision).
            mask.attach(manager);
            return mask;
        }
    }

    private NDArray attention(NDArray h, int[] lengths, DecoderWeights.Layer w, NDList rope, NDArray mask,
            int chunk, KeyValueCache cache, int layer) {
        Shape shape = h.getShape();
        long batch = shape.get(0);
        long length = shape.get(1);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int group = config.groupSize();
        int dim = config.headDim();
        NDArray q = linear(h, w.qWeight(), w.qBias()).reshape(batch, length, heads, dim).transpose(0, 2, 1, 3);
        NDArray k = linear(h, w.kWeight(), w.kBias()).reshape(batch, length, kvHeads, dim).transpose(0, 2, 1, 3);
        NDArray v = linear(h, w.vWeight(), w.vBias()).reshape(batch, length, kvHeads, dim).transpose(0, 2, 1, 3);
        // Fold the 1/sqrt(d) softmax scale into q once instead of into every score chunk.
        q = rotate(q, rope).muli(attentionScale);
        k = rotate(k, rope);
        // With a cache the queries are the new tokens only, after `past` cached ones; keys and values are all.
        long past = 0;
        if (cache != null) {
            past = cache.length();
            NDList all = cache.extend(layer, k, v);
            k = all.get(0);
            v = all.get(1);
        }
        // Query head h uses key/value head h / group: view queries as [batch, kvHeads, group, length, dim] so
        // keys and values are shared by broadcasting instead of being copied group times.
        NDArray grouped = q.reshape(batch, kvHeads, group, length, dim);
        NDManager scope = h.getManager();
        // Derived arrays go to this layer's scope (with a cache, k belongs to the cache and would keep them).
        NDArray keysT = k.transpose(0, 1, 3, 2);
        keysT.attach(scope);
        // Each chunk's result is copied into one preallocated tensor right away: small results kept alive
        // between the large, growing score blocks would fragment the allocator's heap. Padding rows stay zero.
        NDArray context = scope.zeros(new Shape(batch, heads, length, dim), q.getDataType());
        // One sequence at a time: chunks get as many query rows as the block size allows, and a padded
        // sequence's attention stops at its real length.
        for (int b = 0; b < batch; b++) {
            int real = lengths[b];
            for (long start = 0; start < real; start += chunk) {
                long end = Math.min(real, start + chunk);
                long rows = end - start;
                try (NDManager temp = scope.newSubManager()) {
                    NDArray qc = grouped.get(new NDIndex("{}, :, :, {}:{}", b, start, end));
                    qc.attach(temp);
                    long keys = past + end;
                    NDArray kc = keysT.get(new NDIndex("{}, :, :, :{}", b, keys));
                    kc.attach(temp);
                    NDArray vc = v.get(new NDIndex("{}, :, :{}", b, keys));
                    vc.attach(temp);
                    NDArray scores = qc.reshape(kvHeads, group * rows, dim).matMul(kc)
                            .reshape(kvHeads, group, rows, keys);
                    if (precision != ComputePrecision.FLOAT32) {
                        scores = scores.toType(DataType.FLOAT32, false);
                    }
                    // Only the diagonal block needs masking; the slice is a view, so this masks in place.
                    NDArray diagonal = rows == chunk ? mask : mask.get(new NDIndex(":{}, :{}", rows, rows));
                    scores.get(new NDIndex("..., {}:", past + start)).addi(diagonal);
                    NDArray probabilities = scores.softmax(-1).reshape(kvHeads, group * rows, keys);
                    if (precision != ComputePrecision.FLOAT32) {
                        probabilities = probabilities.toType(precision.type(), false);
                    }
                    context.set(new NDIndex("{}, :, {}:{}", b, start, end),
                            probabilities.matMul(vc).reshape(heads, rows, dim));
                }
            }
        }
        NDArray merged = context.transpose(0, 2, 1, 3).reshape(batch, length, (long) heads * dim);
        return linear(merged, w.oWeight(), w.oBias());
    }

    /** Rotate-half rotary embedding: {@code x * cos + [-x2, x1] * sin}. */
    private static NDArray rotate(NDArray x, NDList rope) {
        long half = x.getShape().get(3) / 2;
        NDArray first = x.get(new NDIndex("..., :{}", half));
        NDArray second = x.get(new NDIndex("..., {}:", half));
        NDArray rotated = second.neg().concat(first, -1);
        return rotated.muli(rope.get(1)).addi(x.mul(rope.get(0)));
    }

    private NDArray mlp(NDArray h, DecoderWeights.Layer w, int chunk) {
        long length = h.getShape().get(1);
        if (length <= chunk) {
            return swiGlu(h, w);
        }
        NDManager scope = h.getManager();
        // Results go straight into one tensor (see attention for why nothing small is kept between blocks).
        NDArray output = scope.zeros(h.getShape(), h.getDataType());
        for (long start = 0; start < length; start += chunk) {
            long end = Math.min(length, start + chunk);
            try (NDManager temp = scope.newSubManager()) {
                NDArray part = h.get(new NDIndex(":, {}:{}", start, end));
                part.attach(temp);
                output.set(new NDIndex(":, {}:{}", start, end), swiGlu(part, w));
            }
        }
        return output;
    }

    private static NDArray swiGlu(NDArray h, DecoderWeights.Layer w) {
        NDArray gate = linear(h, w.gateWeight(), w.gateBias());
        NDArray up = linear(h, w.upWeight(), w.upBias());
        NDArray activated = Activation.sigmoid(gate).muli(gate).muli(up);
        return linear(activated, w.downWeight(), w.downBias());
    }

    /** Frees the weights. */
    @Override
    public void close() {
        manager.close();
    }
}
