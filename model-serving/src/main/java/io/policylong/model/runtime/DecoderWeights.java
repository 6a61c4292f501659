package io.policylong.model.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.policylong.model.checkpoint.InvalidCheckpointException;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.safetensors.SafetensorsCheckpoint;
import io.policylong.model.safetensors.TensorEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The weight tensors of a decoder (float32, or a reduced compute precision), loaded from a safetensors checkpoint into an NDManager (and so
 * onto its device). Every tensor the configuration needs must be present with exactly the expected shape;
 * the error names the file and tensor otherwise. Tensors are converted to float32 in Java, in slices of at
 * most {@link #STAGING_FLOATS} values, so BF16 never reaches the engine and no tensor is copied whole onto
 * the Java heap.
 */
public final class DecoderWeights {
    /** Staging buffer size in floats (64 MiB); larger tensors are filled slice by slice. */
    public static final int STAGING_FLOATS = 16 * 1024 * 1024;

    /** Weights of one decoder layer; biases are null where the architecture has none. */
    public record Layer(
            NDArray inputNorm,
            NDArray qWeight, NDArray qBias,
            NDArray kWeight, NDArray kBias,
            NDArray vWeight, NDArray vBias,
            NDArray oWeight, NDArray oBias,
            NDArray postAttentionNorm,
            NDArray gateWeight, NDArray gateBias,
            NDArray upWeight, NDArray upBias,
            NDArray downWeight, NDArray downBias) {
    }

    private final NDArray embedding;
    private final List<Layer> layers;
    private final NDArray finalNorm;
    private final NDArray lmHead;

    private DecoderWeights(NDArray embedding, List<Layer> layers, NDArray finalNorm, NDArray lmHead) {
        this.embedding = embedding;
        this.layers = List.copyOf(layers);
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    /** Token embedding, {@code [vocab, hidden]}. */
    public NDArray embedding() {
        return embedding;
    }

    /** Decoder layers in order. */
    public List<Layer> layers() {
        return layers;
    }

    /** Final RMSNorm weight, {@code [hidden]}. */
    public NDArray finalNorm() {
        return finalNorm;
    }

    /** LM head, {@code [vocab, hidden]} (the embedding itself when tied). */
    public NDArray lmHead() {
        return lmHead;
    }

    /** Loads every tensor the configuration needs, as float32. */
    public static DecoderWeights load(SafetensorsCheckpoint checkpoint, ModelConfig config, NDManager manager)
            throws IOException {
        return load(checkpoint, config, manager, DataType.FLOAT32);
    }

    /**
     * Loads every tensor the configuration needs, held as {@code type} (float32, or a reduced precision: each tensor
     * is read as float32 slice by slice and converted on the engine).
     */
    public static DecoderWeights load(SafetensorsCheckpoint checkpoint, ModelConfig config, NDManager manager,
            DataType type) throws IOException {
        Loader loader = new Loader(checkpoint, manager, type);
        long hidden = config.hiddenSize();
        long qWidth = (long) config.numAttentionHeads() * config.headDim();
        long kvWidth = (long) config.numKeyValueHeads() * config.headDim();
        long inter = config.intermediateSize();
        NDArray embedding = loader.load("model.embed_tokens.weight", config.vocabSize(), hidden);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            boolean qkv = config.qkvBias();
            boolean mlp = config.mlpBias();
            layers.add(new Layer(
                    loader.load(p + "input_layernorm.weight", hidden),
                    loader.load(p + "self_attn.q_proj.weight", qWidth, hidden),
                    qkv ? loader.load(p + "self_attn.q_proj.bias", qWidth) : null,
                    loader.load(p + "self_attn.k_proj.weight", kvWidth, hidden),
                    qkv ? loader.load(p + "self_attn.k_proj.bias", kvWidth) : null,
                    loader.load(p + "self_attn.v_proj.weight", kvWidth, hidden),
                    qkv ? loader.load(p + "self_attn.v_proj.bias", kvWidth) : null,
                    loader.load(p + "self_attn.o_proj.weight", hidden, qWidth),
                    config.outputBias() ? loader.load(p + "self_attn.o_proj.bias", hidden) : null,
                    loader.load(p + "post_attention_layernorm.weight", hidden),
                    loader.load(p + "mlp.gate_proj.weight", inter, hidden),
                    mlp ? loader.load(p + "mlp.gate_proj.bias", inter) : null,
                    loader.load(p + "mlp.up_proj.weight", inter, hidden),
                    mlp ? loader.load(p + "mlp.up_proj.bias", inter) : null,
                    loader.load(p + "mlp.down_proj.weight", hidden, inter),
                    mlp ? loader.load(p + "mlp.down_proj.bias", hidden) : null));
        }
        NDArray finalNorm = loader.load("model.norm.weight", hidden);
        NDArray lmHead = config.tieWordEmbeddings()
                ? embedding
                : loader.load("lm_head.weight", config.vocabSize(), hidden);
        return new DecoderWeights(embedding, layers, finalNorm, lmHead);
    }

    /** Reads tensors through one reusable staging buffer. */
    private static final class Loader {
        private final SafetensorsCheckpoint checkpoint;
        private final NDManager manager;
        private final DataType type;
        private ByteBuffer stagingBytes;
        private FloatBuffer staging;

        Loader(SafetensorsCheckpoint checkpoint, NDManager manager, DataType type) {
            this.checkpoint = checkpoint;
            this.manager = manager;
            this.type = type;
        }

        NDArray load(String name, long... shape) throws IOException {
            TensorEntry entry = checkpoint.entry(name).orElseThrow(() -> new InvalidCheckpointException(
                    checkpoint.directory() + ": tensor '" + name + "' is missing (needed with shape "
                            + Arrays.toString(shape) + ")"));
            if (!entry.hasShape(shape)) {
                throw new InvalidCheckpointException(checkpoint.fileOf(name) + ": tensor '" + name + "' has shape "
                        + Arrays.toString(entry.shape()) + " but the configuration needs " + Arrays.toString(shape));
            }
            if (!entry.dtype().isConvertibleToFloat32()) {
                throw new InvalidCheckpointException(checkpoint.fileOf(name) + ": tensor '" + name + "' has dtype "
                        + entry.dtype() + ", but weights must be F32, F16 or BF16");
            }
            long rows = shape[0];
            long rowSize = entry.elementCount() / Math.max(1, rows);
            long rowsPerSlice = Math.max(1, STAGING_FLOATS / Math.max(1, rowSize));
            ensureStaging((int) Math.min(entry.elementCount(), rowsPerSlice * rowSize));
            if (rows <= rowsPerSlice) {
                return slice(name, 0, (int) entry.elementCount(), new Shape(shape));
            }
            // Too large for one staging buffer: fill an engine-owned tensor slice by slice.
            NDArray result = manager.zeros(new Shape(shape), type);
            for (long row = 0; row < rows; row += rowsPerSlice) {
                long sliceRows = Math.min(rowsPerSlice, rows - row);
                long[] sliceShape = shape.clone();
                sliceShape[0] = sliceRows;
                try (NDArray part = slice(name, row * rowSize, (int) (sliceRows * rowSize), new Shape(sliceShape))) {
                    result.set(new NDIndex("{}:{}", row, row + sliceRows), part);
                }
            }
            return result;
        }

        private NDArray slice(String name, long firstElement, int count, Shape shape) throws IOException {
            staging.clear();
            checkpoint.readFloat32(name, firstElement, count, staging);
            ByteBuffer bytes = stagingBytes.duplicate().order(ByteOrder.nativeOrder());
            bytes.position(0).limit(count * Float.BYTES);
            // On the CPU the engine wraps the buffer without copying; duplicate() gives it memory of its own so
            // the staging buffer can be reused.
            try (NDArray view = manager.create(bytes, shape, DataType.FLOAT32)) {
                NDArray owned = type == DataType.FLOAT32 ? view.duplicate() : view.toType(type, true);
                owned.setName(name);
                return owned;
            }
        }

        private void ensureStaging(int floats) {
            if (staging == null || staging.capacity() < floats) {
                stagingBytes = ByteBuffer.allocateDirect(Math.max(floats, 1) * Float.BYTES)
                        .order(ByteOrder.nativeOrder());
                staging = stagingBytes.asFloatBuffer();
            }
        }
    }
}
