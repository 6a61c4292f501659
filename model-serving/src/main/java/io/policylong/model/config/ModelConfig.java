package io.policylong.model.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.policylong.model.checkpoint.InvalidCheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The typed {@code config.json} of a Qwen2 or Llama causal language model. Every value that changes the
 * forward pass is kept, including long-context settings ({@code rope_theta}, {@code rope_scaling},
 * {@code max_position_embeddings}), so that extended checkpoints are scored exactly as trained.
 *
 * @param architecture the decoder family
 * @param vocabSize rows of the embedding and LM head
 * @param hiddenSize model width
 * @param intermediateSize MLP width
 * @param numLayers decoder layers
 * @param numAttentionHeads query heads
 * @param numKeyValueHeads key/value heads (grouped-query attention when fewer than query heads)
 * @param headDim width of one head
 * @param rmsNormEps RMSNorm epsilon
 * @param ropeTheta rotary base
 * @param tieWordEmbeddings whether the LM head reuses the embedding matrix
 * @param qkvBias whether the q, k and v projections have biases (always for Qwen2)
 * @param outputBias whether the attention output projection has a bias (Llama {@code attention_bias})
 * @param mlpBias whether the MLP projections have biases (Llama {@code mlp_bias})
 * @param maxPositionEmbeddings the trained context length the configuration declares
 * @param ropeScaling rotary scaling
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean outputBias,
        boolean mlpBias,
        int maxPositionEmbeddings,
        RopeScaling ropeScaling) {

    public static final String FILE_NAME = "config.json";
    private static final long MAX_CONFIG_BYTES = 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelConfig {
        require(vocabSize > 0, "vocab_size must be positive");
        require(hiddenSize > 0, "hidden_size must be positive");
        require(intermediateSize > 0, "intermediate_size must be positive");
        require(numLayers > 0, "num_hidden_layers must be positive");
        require(numAttentionHeads > 0, "num_attention_heads must be positive");
        require(numKeyValueHeads > 0, "num_key_value_heads must be positive");
        require(numAttentionHeads % numKeyValueHeads == 0,
                "num_attention_heads (" + numAttentionHeads + ") must be a multiple of num_key_value_heads ("
                        + numKeyValueHeads + ")");
        require(headDim > 0 && headDim % 2 == 0, "head_dim must be positive and even, got " + headDim);
        require(rmsNormEps > 0, "rms_norm_eps must be positive");
        require(ropeTheta > 1, "rope_theta must be greater than 1");
        require(maxPositionEmbeddings > 0, "max_position_embeddings must be positive");
        if (ropeScaling == null) {
            ropeScaling = new RopeScaling.None();
        }
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /** Parameter count (embedding and LM head included; a tied head counted once). */
    public long parameterCount() {
        long attention = (long) hiddenSize * headDim * (2L * numAttentionHeads + 2L * numKeyValueHeads);
        if (qkvBias) {
            attention += (long) headDim * (numAttentionHeads + 2L * numKeyValueHeads);
        }
        if (outputBias) {
            attention += hiddenSize;
        }
        long mlp = 3L * hiddenSize * intermediateSize + (mlpBias ? 2L * intermediateSize + hiddenSize : 0);
        long perLayer = attention + mlp + 2L * hiddenSize;
        long embeddings = (long) vocabSize * hiddenSize * (tieWordEmbeddings ? 1 : 2);
        return perLayer * numLayers + embeddings + hiddenSize;
    }

    /** Reads and validates {@code config.json} (the file or the checkpoint directory holding it). */
    public static ModelConfig load(Path fileOrDirectory) throws InvalidCheckpointException {
        if (!Files.exists(fileOrDirectory)) {
            throw new InvalidCheckpointException(fileOrDirectory + ": no such checkpoint directory or " + FILE_NAME);
        }
        Path file = Files.isDirectory(fileOrDirectory) ? fileOrDirectory.resolve(FILE_NAME) : fileOrDirectory;
        if (!Files.isRegularFile(file)) {
            throw new InvalidCheckpointException(file + ": missing (every checkpoint needs a " + FILE_NAME + ")");
        }
        JsonNode root;
        try {
            long size = Files.size(file);
            if (size > MAX_CONFIG_BYTES) {
                throw new InvalidCheckpointException(file + ": " + size + " bytes is not a plausible model "
                        + "configuration (limit " + MAX_CONFIG_BYTES + ")");
            }
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (InvalidCheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidCheckpointException(file + ": cannot read model configuration: " + e.getMessage(), e);
        }
        return parse(root, file.toString());
    }

    /**
     * Validates a parsed configuration. {@code source} names it in error messages.
     */
    public static ModelConfig parse(JsonNode root, String source) throws InvalidCheckpointException {
        if (root == null || !root.isObject()) {
            throw new InvalidCheckpointException(source + ": not a JSON object");
        }
        Fields f = new Fields(root, source);
        Architecture architecture = architecture(root, source);
        if (!"silu".equals(f.text("hidden_act", "silu"))) {
            throw f.error("hidden_act '" + f.text("hidden_act", "") + "' is not supported (only silu)");
        }
        if (f.bool("use_sliding_window", false)) {
            throw f.error("use_sliding_window=true is not supported: every layer must use full attention");
        }
        // Newer writers put the rotary settings (theta, type, scaling) into one "rope_parameters" object.
        JsonNode ropeParameters = root.get("rope_parameters");
        JsonNode scalingNode = root.get("rope_scaling");
        double theta = f.number("rope_theta", 10000.0);
        double partialRotary = f.number("partial_rotary_factor", 1.0);
        if (ropeParameters != null && !ropeParameters.isNull()) {
            if (!ropeParameters.isObject()) {
                throw f.error("rope_parameters is not a JSON object");
            }
            Fields rp = new Fields(ropeParameters, source + " rope_parameters");
            if (rp.present("rope_theta")) {
                double inner = rp.number("rope_theta", theta);
                if (f.present("rope_theta") && inner != theta) {
                    throw f.error("rope_theta " + theta + " and rope_parameters.rope_theta " + inner + " disagree");
                }
                theta = inner;
            }
            partialRotary = rp.number("partial_rotary_factor", partialRotary);
            if (scalingNode != null && !scalingNode.isNull() && !scalingNode.equals(ropeParameters)) {
                throw f.error("both rope_scaling and rope_parameters are given and they differ");
            }
            scalingNode = ropeParameters;
        }
        if (partialRotary != 1.0) {
            throw f.error("partial_rotary_factor " + partialRotary + " is not supported for "
                    + architecture.className());
        }
        int hidden = f.requiredInt("hidden_size");
        int heads = f.requiredInt("num_attention_heads");
        int kvHeads = f.optionalInt("num_key_value_heads", heads);
        int headDim;
        if (f.present("head_dim")) {
            headDim = f.requiredInt("head_dim");
        } else {
            if (heads <= 0 || hidden % heads != 0) {
                throw f.error("hidden_size " + hidden + " is not divisible by num_attention_heads " + heads
                        + " and no head_dim is given");
            }
            headDim = hidden / heads;
        }
        boolean llama = architecture == Architecture.LLAMA;
        boolean attentionBias = llama && f.bool("attention_bias", false);
        int maxPositions = f.optionalInt("max_position_embeddings", llama ? 2048 : 32768);
        RopeScaling scaling = ropeScaling(scalingNode, maxPositions, f);
        try {
            return new ModelConfig(
                    architecture,
                    f.requiredInt("vocab_size"),
                    hidden,
                    f.requiredInt("intermediate_size"),
                    f.requiredInt("num_hidden_layers"),
                    heads,
                    kvHeads,
                    headDim,
                    f.number("rms_norm_eps", 1e-6),
                    theta,
                    f.bool("tie_word_embeddings", false),
                    !llama || attentionBias,
                    attentionBias,
                    llama && f.bool("mlp_bias", false),
                    maxPositions,
                    scaling);
        } catch (IllegalArgumentException e) {
            throw f.error(e.getMessage());
        }
    }

    private static Architecture architecture(JsonNode root, String source) throws InvalidCheckpointException {
        JsonNode architectures = root.get("architectures");
        if (architectures != null && architectures.isArray() && architectures.size() > 0) {
            String name = architectures.get(0).asText();
            return Architecture.fromClassName(name).orElseThrow(() -> new InvalidCheckpointException(source
                    + ": architecture '" + name + "' is not supported (Qwen2ForCausalLM or LlamaForCausalLM)"));
        }
        JsonNode modelType = root.get("model_type");
        if (modelType != null) {
            for (Architecture a : Architecture.values()) {
                if (a.modelType().equals(modelType.asText())) {
                    return a;
                }
            }
            throw new InvalidCheckpointException(source + ": model_type '" + modelType.asText()
                    + "' is not supported (qwen2 or llama)");
        }
        throw new InvalidCheckpointException(source + ": neither architectures nor model_type is given");
    }

    private static RopeScaling ropeScaling(JsonNode node, int maxPositions, Fields top)
            throws InvalidCheckpointException {
        if (node == null || node.isNull()) {
            return new RopeScaling.None();
        }
        if (!node.isObject()) {
            throw top.error("rope_scaling is not a JSON object");
        }
        Fields f = new Fields(node, top.source + " rope_scaling");
        String type = f.present("rope_type") ? f.text("rope_type", null) : f.text("type", "default");
        if (type == null) {
            throw f.error("rope_type is not a string");
        }
        switch (type.toLowerCase(Locale.ROOT)) {
            case "default":
                return new RopeScaling.None();
            case "linear":
                return new RopeScaling.Linear(f.positive("factor"));
            case "llama3": {
                double low = f.positive("low_freq_factor");
                double high = f.positive("high_freq_factor");
                if (high <= low) {
                    throw f.error("high_freq_factor (" + high + ") must be greater than low_freq_factor (" + low + ")");
                }
                return new RopeScaling.Llama3(f.positive("factor"), low, high,
                        f.positive("original_max_position_embeddings"));
            }
            case "yarn": {
                double original = f.present("original_max_position_embeddings")
                        ? f.positive("original_max_position_embeddings") : maxPositions;
                double factor = f.positive("factor");
                double betaFast = f.number("beta_fast", 0);
                double betaSlow = f.number("beta_slow", 0);
                return new RopeScaling.Yarn(factor, original,
                        betaFast == 0 ? 32 : betaFast,
                        betaSlow == 0 ? 1 : betaSlow,
                        f.number("mscale", Double.NaN),
                        f.number("mscale_all_dim", Double.NaN),
                        f.number("attention_factor", Double.NaN),
                        f.bool("truncate", true));
            }
            default:
                throw f.error("rope scaling type '" + type + "' is not supported (default, linear, llama3 or yarn)");
        }
    }

    /** This configuration as a Hugging Face {@code config.json} object. */
    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("architectures").add(architecture.className());
        root.put("model_type", architecture.modelType());
        root.put("vocab_size", vocabSize);
        root.put("hidden_size", hiddenSize);
        root.put("intermediate_size", intermediateSize);
        root.put("num_hidden_layers", numLayers);
        root.put("num_attention_heads", numAttentionHeads);
        root.put("num_key_value_heads", numKeyValueHeads);
        root.put("head_dim", headDim);
        root.put("hidden_act", "silu");
        root.put("rms_norm_eps", rmsNormEps);
        root.put("rope_theta", ropeTheta);
        root.put("tie_word_embeddings", tieWordEmbeddings);
        root.put("max_position_embeddings", maxPositionEmbeddings);
        if (architecture == Architecture.LLAMA) {
            root.put("attention_bias", outputBias);
            root.put("mlp_bias", mlpBias);
        } else {
            root.put("use_sliding_window", false);
        }
        root.put("torch_dtype", "float32");
        if (ropeScaling instanceof RopeScaling.None) {
            root.putNull("rope_scaling");
        } else {
            ObjectNode s = root.putObject("rope_scaling");
            s.put("rope_type", ropeScaling.type());
            if (ropeScaling instanceof RopeScaling.Linear l) {
                s.put("factor", l.factor());
            } else if (ropeScaling instanceof RopeScaling.Llama3 l) {
                s.put("factor", l.factor());
                s.put("low_freq_factor", l.lowFreqFactor());
                s.put("high_freq_factor", l.highFreqFactor());
                s.put("original_max_position_embeddings", l.originalMaxPositionEmbeddings());
            } else if (ropeScaling instanceof RopeScaling.Yarn y) {
                s.put("factor", y.factor());
                s.put("original_max_position_embeddings", y.originalMaxPositionEmbeddings());
                s.put("beta_fast", y.betaFast());
                s.put("beta_slow", y.betaSlow());
                putIfSet(s, "mscale", y.mscale());
                putIfSet(s, "mscale_all_dim", y.mscaleAllDim());
                putIfSet(s, "attention_factor", y.attentionFactor());
                s.put("truncate", y.truncate());
            }
        }
        return root;
    }

    private static void putIfSet(ObjectNode node, String field, double value) {
        if (!Double.isNaN(value)) {
            node.put(field, value);
        }
    }

    /** Writes this configuration as {@code config.json} into a directory. */
    public void write(Path directory) throws IOException {
        Files.createDirectories(directory);
        JSON.writerWithDefaultPrettyPrinter().writeValue(directory.resolve(FILE_NAME).toFile(), toJson());
    }

    /** Typed field access with errors that name the file and field. */
    private static final class Fields {
        private final JsonNode node;
        private final String source;

        Fields(JsonNode node, String source) {
            this.node = node;
            this.source = source;
        }

        InvalidCheckpointException error(String reason) {
            return new InvalidCheckpointException(source + ": " + reason);
        }

        boolean present(String field) {
            JsonNode v = node.get(field);
            return v != null && !v.isNull();
        }

        int requiredInt(String field) throws InvalidCheckpointException {
            if (!present(field)) {
                throw error("missing required field " + field);
            }
            return optionalInt(field, 0);
        }

        int optionalInt(String field, int fallback) throws InvalidCheckpointException {
            if (!present(field)) {
                return fallback;
            }
            JsonNode v = node.get(field);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw error(field + " must be an integer, got " + v);
            }
            return v.asInt();
        }

        double number(String field, double fallback) throws InvalidCheckpointException {
            if (!present(field)) {
                return fallback;
            }
            JsonNode v = node.get(field);
            if (!v.isNumber()) {
                throw error(field + " must be a number, got " + v);
            }
            return v.asDouble();
        }

        double positive(String field) throws InvalidCheckpointException {
            if (!present(field)) {
                throw error("missing required field " + field);
            }
            double value = number(field, Double.NaN);
            if (!(value > 0) || Double.isInfinite(value)) {
                throw error(field + " must be a positive number, got " + value);
            }
            return value;
        }

        boolean bool(String field, boolean fallback) throws InvalidCheckpointException {
            if (!present(field)) {
                return fallback;
            }
            JsonNode v = node.get(field);
            if (!v.isBoolean()) {
                throw error(field + " must be true or false, got " + v);
            }
            return v.asBoolean();
        }

        String text(String field, String fallback) {
            if (!present(field)) {
                return fallback;
            }
            JsonNode v = node.get(field);
            return v.isTextual() ? v.asText() : null;
        }
    }
}
