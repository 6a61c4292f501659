package io.policylong.model.protocol;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Score requests and results in the JSON form of the Open Inference Protocol v2 ({@code /infer}), written and read
 * by the scoring server and by the job's remote client alike.
 *
 * <p>A request carries {@code input_ids} (INT64): one sequence of shape {@code [n]} or {@code [1, n]}, or, with
 * {@code lengths} (INT64, one per sequence), a batch of sequences one after the other. {@code positions} (INT64)
 * optionally restricts the scored positions (for a batch, with {@code position_counts}: how many belong to each
 * sequence). {@code outputs} may ask for {@code entropy} and/or {@code logprob} (FP32); both by default. For a
 * batch, the response adds {@code position_counts}. {@code parameters.timeout_ms} bounds how long the client
 * waits; {@code parameters.sha256} names the weights the client means by the version.
 */
public final class InferenceJson {
    /** The inputs a request may carry. */
    public static final Set<String> INPUTS = Set.of("input_ids", "lengths", "positions", "position_counts");
    /** The outputs a response may carry. */
    public static final List<String> OUTPUTS = List.of("entropy", "logprob");

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Reads floats as exact decimals, so that every FP32 value comes back as the float that was written. */
    private static final ObjectMapper EXACT = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private InferenceJson() {
    }

    /**
     * A parsed request.
     *
     * @param id the client's request id, or null
     * @param sequences the sequences, in order
     * @param batch whether they came as a batch (with {@code lengths})
     * @param outputs the outputs asked for, in {@link #OUTPUTS} order
     * @param timeoutMillis the client's deadline, or 0 for none
     * @param sha256 the weights the client means by the version ({@code parameters.sha256}), or null
     */
    public record Request(String id, List<ScoreRequest> sequences, boolean batch, List<String> outputs,
            long timeoutMillis, String sha256) {
        /** Tokens in all sequences. */
        public long tokens() {
            return sequences.stream().mapToLong(ScoreRequest::length).sum();
        }
    }

    /**
     * Parses and checks a request body.
     *
     * @param vocabSize token ids must be in {@code [0, vocabSize)}
     * @param maxTokens the most tokens one request may carry
     * @throws InvalidInferenceRequestException naming the problem
     */
    public static Request parseRequest(byte[] body, int vocabSize, long maxTokens)
            throws InvalidInferenceRequestException {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw new InvalidInferenceRequestException("the body is not JSON: " + message(e));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidInferenceRequestException("the body must be a JSON object with \"inputs\"");
        }
        JsonNode inputs = root.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            throw new InvalidInferenceRequestException("missing field \"inputs\" (a non-empty array)");
        }
        Map<String, long[]> tensors = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (JsonNode input : inputs) {
            String name = text(input, "name", "an input");
            if (!INPUTS.contains(name)) {
                throw new InvalidInferenceRequestException("unknown input \"" + name + "\" (expected input_ids, and "
                        + "optionally lengths, positions, position_counts)");
            }
            if (tensors.containsKey(name)) {
                throw new InvalidInferenceRequestException("input \"" + name + "\" is given twice");
            }
            String datatype = text(input, "datatype", "input " + name);
            if (!datatype.equals("INT64")) {
                throw new InvalidInferenceRequestException("input " + name + ": datatype must be INT64, not " + datatype);
            }
            long[] shape = shape(input, name);
            long[] data = integers(input, name);
            long elements = 1;
            try {
                for (long d : shape) {
                    elements = Math.multiplyExact(elements, d);
                }
            } catch (ArithmeticException e) {
                throw new InvalidInferenceRequestException("input " + name + ": shape "
                        + java.util.Arrays.toString(shape) + " is too large");
            }
            if (elements != data.length) {
                throw new InvalidInferenceRequestException("input " + name + ": shape " + java.util.Arrays.toString(shape)
                        + " holds " + elements + " values, but data has " + data.length);
            }
            tensors.put(name, data);
            shapes.put(name, shape);
        }
        long[] ids = tensors.get("input_ids");
        if (ids == null) {
            throw new InvalidInferenceRequestException("missing input \"input_ids\"");
        }
        if (ids.length > maxTokens) {
            throw new InvalidInferenceRequestException("input_ids has " + ids.length + " tokens, more than this server's "
                    + "limit of " + maxTokens + " per request");
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new InvalidInferenceRequestException("input_ids[" + i + "] = " + ids[i] + " is outside the "
                        + "vocabulary [0, " + vocabSize + ")");
            }
        }
        long[] lengths = tensors.get("lengths");
        long[] positions = tensors.get("positions");
        long[] counts = tensors.get("position_counts");
        boolean batch = lengths != null;
        if (!batch) {
            long[] shape = shapes.get("input_ids");
            if (shape.length > 2 || shape.length == 2 && shape[0] != 1) {
                throw new InvalidInferenceRequestException("input_ids: shape must be [n] or [1, n] for one sequence (a "
                        + "batch gives its sequences one after the other with \"lengths\"), not "
                        + java.util.Arrays.toString(shape));
            }
            if (counts != null) {
                throw new InvalidInferenceRequestException("position_counts is for a batch (with lengths)");
            }
            lengths = new long[] {ids.length};
            counts = positions == null ? null : new long[] {positions.length};
        } else if (positions != null && counts == null) {
            throw new InvalidInferenceRequestException("a batch with positions needs position_counts (how many "
                    + "positions belong to each sequence)");
        } else if (positions == null && counts != null) {
            throw new InvalidInferenceRequestException("position_counts without positions");
        }
        if (counts != null && counts.length != lengths.length) {
            throw new InvalidInferenceRequestException("position_counts has " + counts.length + " values for "
                    + lengths.length + " sequences");
        }
        List<ScoreRequest> sequences = new ArrayList<>();
        long at = 0;
        long positionAt = 0;
        for (int s = 0; s < lengths.length; s++) {
            if (lengths[s] < 1) {
                throw new InvalidInferenceRequestException("lengths[" + s + "] = " + lengths[s]
                        + ": every sequence needs at least one token");
            }
            if (lengths[s] > ids.length - at) {
                throw new InvalidInferenceRequestException("lengths add up to more than the " + ids.length
                        + " tokens of input_ids");
            }
            long[] sequence = java.util.Arrays.copyOfRange(ids, (int) at, (int) (at + lengths[s]));
            at += lengths[s];
            int[] own = null;
            if (positions != null) {
                if (counts[s] < 0 || counts[s] > positions.length - positionAt) {
                    throw new InvalidInferenceRequestException("position_counts[" + s + "] = " + counts[s]
                            + " goes past the " + positions.length + " positions");
                }
                own = new int[(int) counts[s]];
                for (int i = 0; i < own.length; i++) {
                    long p = positions[(int) positionAt + i];
                    own[i] = p < 0 || p > Integer.MAX_VALUE ? -1 : (int) p;
                }
                positionAt += counts[s];
            }
            try {
                sequences.add(new ScoreRequest(sequence, own));
            } catch (IllegalArgumentException e) {
                throw new InvalidInferenceRequestException((batch ? "sequence " + s + ": " : "positions: ")
                        + e.getMessage());
            }
        }
        if (at != ids.length) {
            throw new InvalidInferenceRequestException("lengths add up to " + at + ", but input_ids has " + ids.length
                    + " tokens");
        }
        if (positions != null && positionAt != positions.length) {
            throw new InvalidInferenceRequestException("position_counts add up to " + positionAt + ", but positions "
                    + "has " + positions.length + " values");
        }
        List<String> outputs = outputs(root.get("outputs"));
        long timeout = 0;
        JsonNode parameters = root.get("parameters");
        if (parameters != null && parameters.has("timeout_ms")) {
            JsonNode t = parameters.get("timeout_ms");
            if (!t.isIntegralNumber() || !t.canConvertToLong() || t.asLong() <= 0) {
                throw new InvalidInferenceRequestException("parameters.timeout_ms must be a positive integer, not " + t);
            }
            timeout = t.asLong();
        }
        String sha256 = null;
        if (parameters != null && parameters.has("sha256")) {
            sha256 = parameters.get("sha256").asText();
            if (!sha256.matches("[0-9a-f]{64}")) {
                throw new InvalidInferenceRequestException("parameters.sha256 must be 64 lowercase hex digits");
            }
        }
        JsonNode id = root.get("id");
        return new Request(id == null || id.isNull() ? null : id.asText(), List.copyOf(sequences), batch, outputs,
                timeout, sha256);
    }

    private static List<String> outputs(JsonNode node) throws InvalidInferenceRequestException {
        if (node == null || node.isNull()) {
            return OUTPUTS;
        }
        if (!node.isArray()) {
            throw new InvalidInferenceRequestException("\"outputs\" must be an array of {\"name\": ...}");
        }
        List<String> asked = new ArrayList<>();
        for (JsonNode output : node) {
            String name = text(output, "name", "an output");
            if (!OUTPUTS.contains(name)) {
                throw new InvalidInferenceRequestException("unknown output \"" + name + "\" (entropy or logprob)");
            }
            asked.add(name);
        }
        return OUTPUTS.stream().filter(asked::contains).toList();
    }

    private static String text(JsonNode node, String field, String what) throws InvalidInferenceRequestException {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new InvalidInferenceRequestException(what + ": missing field \"" + field + "\" (a string)");
        }
        return value.asText();
    }

    private static long[] shape(JsonNode input, String name) throws InvalidInferenceRequestException {
        JsonNode shape = input.get("shape");
        if (shape == null || !shape.isArray() || shape.isEmpty()) {
            throw new InvalidInferenceRequestException("input " + name + ": missing field \"shape\" (an array of sizes)");
        }
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw new InvalidInferenceRequestException("input " + name + ": shape must hold sizes, not " + shape);
            }
            dims[i] = d.asLong();
        }
        return dims;
    }

    /** The data of an input, flattened (the protocol allows nested arrays in row-major order). */
    private static long[] integers(JsonNode input, String name) throws InvalidInferenceRequestException {
        JsonNode data = input.get("data");
        if (data == null || !data.isArray()) {
            throw new InvalidInferenceRequestException("input " + name + ": missing field \"data\" (an array)");
        }
        List<Long> values = new ArrayList<>();
        flatten(data, name, values);
        long[] result = new long[values.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = values.get(i);
        }
        return result;
    }

    private static void flatten(JsonNode array, String name, List<Long> into) throws InvalidInferenceRequestException {
        for (JsonNode v : array) {
            if (v.isArray()) {
                flatten(v, name, into);
            } else if (v.isIntegralNumber() && v.canConvertToLong()) {
                into.add(v.asLong());
            } else {
                throw new InvalidInferenceRequestException("input " + name + ": data holds " + v
                        + ", not an INT64 value");
            }
        }
    }

    /** The request body for these sequences: one as {@code [n]}, several as a batch with lengths. */
    public static byte[] writeRequest(String id, List<ScoreRequest> sequences, long timeoutMillis) {
        return writeRequest(id, sequences, timeoutMillis, null);
    }

    /**
     * As {@link #writeRequest(String, List, long)}, naming the weights meant by the version ({@code sha256}, or
     * null): a server holding other weights under it refuses instead of answering with them.
     */
    public static byte[] writeRequest(String id, List<ScoreRequest> sequences, long timeoutMillis, String sha256) {
        ObjectNode root = JSON.createObjectNode();
        if (id != null) {
            root.put("id", id);
        }
        ArrayNode inputs = root.putArray("inputs");
        long total = sequences.stream().mapToLong(ScoreRequest::length).sum();
        ArrayNode ids = tensor(inputs, "input_ids", "INT64", total);
        boolean batch = sequences.size() != 1;
        boolean anyPositions = sequences.stream().anyMatch(s -> s.positions() != null);
        ArrayNode lengths = batch ? tensor(inputs, "lengths", "INT64", sequences.size()) : null;
        long positionTotal = anyPositions ? sequences.stream().mapToLong(ScoreRequest::scoredCount).sum() : 0;
        ArrayNode positions = anyPositions ? tensor(inputs, "positions", "INT64", positionTotal) : null;
        ArrayNode counts = anyPositions && batch ? tensor(inputs, "position_counts", "INT64", sequences.size()) : null;
        for (ScoreRequest s : sequences) {
            for (long t : s.tokenIds()) {
                ids.add(t);
            }
            if (lengths != null) {
                lengths.add(s.length());
            }
            if (positions != null) {
                for (int i = 0; i < s.scoredCount(); i++) {
                    positions.add(s.position(i));
                }
                if (counts != null) {
                    counts.add(s.scoredCount());
                }
            }
        }
        if (timeoutMillis > 0 || sha256 != null) {
            ObjectNode parameters = root.putObject("parameters");
            if (timeoutMillis > 0) {
                parameters.put("timeout_ms", timeoutMillis);
            }
            if (sha256 != null) {
                parameters.put("sha256", sha256);
            }
        }
        return bytes(root);
    }

    /** The response body for a request's results. */
    public static byte[] writeResponse(String modelName, long version, Request request, List<ScoreResult> results) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model_name", modelName);
        root.put("model_version", String.valueOf(version));
        if (request.id() != null) {
            root.put("id", request.id());
        }
        ArrayNode outputs = root.putArray("outputs");
        long total = results.stream().mapToLong(ScoreResult::size).sum();
        for (String name : request.outputs()) {
            ArrayNode data = tensor(outputs, name, "FP32", total);
            for (ScoreResult r : results) {
                float[] values = name.equals("entropy") ? r.entropy() : r.logprob();
                for (float v : values) {
                    if (Float.isFinite(v)) {
                        data.add(v);
                    } else {
                        data.add(Float.toString(v)); // JSON has no infinities: a log-probability of -Infinity as text
                    }
                }
            }
        }
        if (request.batch()) {
            ArrayNode counts = tensor(outputs, "position_counts", "INT64", results.size());
            results.forEach(r -> counts.add(r.size()));
        }
        return bytes(root);
    }

    /**
     * The results of a response to these sequences, in order.
     *
     * @throws IOException when the body is not a response to them
     */
    public static List<ScoreResult> parseResponse(byte[] body, List<ScoreRequest> sequences) throws IOException {
        JsonNode root;
        try {
            root = EXACT.readTree(body);
        } catch (JacksonException e) {
            throw new IOException("the response is not JSON: " + message(e), e);
        }
        Map<String, JsonNode> outputs = new LinkedHashMap<>();
        for (JsonNode output : root.path("outputs")) {
            outputs.put(output.path("name").asText(), output.path("data"));
        }
        JsonNode entropy = outputs.get("entropy");
        JsonNode logprob = outputs.get("logprob");
        long total = sequences.stream().mapToLong(ScoreRequest::scoredCount).sum();
        if (entropy == null || logprob == null || entropy.size() != total || logprob.size() != total) {
            throw new IOException("the response does not hold entropy and logprob for the " + total
                    + " positions asked for: " + abbreviated(body));
        }
        List<ScoreResult> results = new ArrayList<>();
        int at = 0;
        for (ScoreRequest s : sequences) {
            int n = s.scoredCount();
            int[] positions = new int[n];
            float[] e = new float[n];
            float[] l = new float[n];
            for (int i = 0; i < n; i++) {
                positions[i] = s.position(i);
                e[i] = floatOf(entropy.get(at + i));
                l[i] = floatOf(logprob.get(at + i));
            }
            at += n;
            results.add(new ScoreResult(positions, e, l));
        }
        return results;
    }

    private static float floatOf(JsonNode node) throws IOException {
        if (node.isNumber()) {
            return node.decimalValue().floatValue();
        }
        if (node.isTextual()) {
            try {
                return Float.parseFloat(node.asText());
            } catch (NumberFormatException e) {
                throw new IOException("not an FP32 value: " + node, e);
            }
        }
        throw new IOException("not an FP32 value: " + node);
    }

    private static ArrayNode tensor(ArrayNode into, String name, String datatype, long size) {
        ObjectNode tensor = into.addObject();
        tensor.put("name", name);
        tensor.put("datatype", datatype);
        tensor.putArray("shape").add(size);
        return tensor.putArray("data");
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException("a JSON tree could not be written", e);
        }
    }

    private static String message(Exception e) {
        return e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage();
    }

    private static String abbreviated(byte[] body) {
        String text = new String(body, java.nio.charset.StandardCharsets.UTF_8);
        return text.length() > 300 ? text.substring(0, 300) + "..." : text;
    }

    /** For error bodies: {@code {"error": message}}, as the protocol has them. */
    public static byte[] error(String message) {
        ObjectNode root = JSON.createObjectNode();
        root.put("error", message);
        return bytes(root);
    }

    /** The {@code error} of an error body, or the body itself when it has none. */
    public static String errorOf(byte[] body) {
        try {
            JsonNode root = JSON.readTree(body);
            if (root != null && root.hasNonNull("error")) {
                return root.get("error").asText();
            }
        } catch (IOException e) {
            // not JSON: the body itself says what happened
        }
        return abbreviated(body);
    }
}
