package io.policylong.records;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * The announcement that a new checkpoint is the current policy. It carries no weights, only where to find
 * them and how to check them.
 *
 * <p>JSON: {@code {"version": 3, "uri": "file:///ckpt/step-1200", "sha256": "...", "step": 1200,
 * "time": "2026-11-29T17:00:00Z", "run": "run-a"}}; {@code version} and {@code uri} are required.
 *
 * @param version monotonic policy version; consumers only ever move forward
 * @param uri the checkpoint directory: an absolute path, or a URI of any Flink file system ({@code file:},
 *     {@code s3://}, {@code hdfs://}), which each TaskManager stages locally before loading
 * @param sha256 lowercase hex SHA-256 of the checkpoint's weights (see the model runtime's checkpoint digest),
 *     or null when not given
 * @param step trainer step, or null
 * @param time when the checkpoint was announced, or null
 * @param run training run the checkpoint belongs to, or null
 */
public record PolicyUpdate(long version, String uri, String sha256, Long step, Instant time, String run)
        implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public PolicyUpdate {
        if (version < 0) {
            throw new IllegalArgumentException("version must be non-negative, got " + version);
        }
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("uri must not be empty");
        }
        if (sha256 != null && !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("sha256 must be 64 lowercase hex digits, got '" + sha256 + "'");
        }
        if (step != null && step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
    }

    /** Parses and validates the JSON form. */
    public static PolicyUpdate fromJson(String json) throws InvalidRecordException {
        JsonFields f = JsonFields.parse(json, "policy update");
        long version = f.requiredLong("version");
        String uri = f.requiredText("uri");
        String sha = f.optionalText("sha256");
        Long step = f.optionalLong("step");
        String timeText = f.optionalText("time");
        Instant time;
        try {
            time = timeText == null ? null : Instant.parse(timeText);
        } catch (DateTimeParseException e) {
            throw f.error("\"time\" is not an ISO-8601 instant: " + timeText);
        }
        try {
            return new PolicyUpdate(version, uri, sha, step, time, f.optionalText("run"));
        } catch (IllegalArgumentException e) {
            throw f.error(e.getMessage());
        }
    }

    /** The JSON form (one line). */
    public String toJson() {
        ObjectNode node = JsonFields.JSON.createObjectNode();
        node.put("version", version);
        node.put("uri", uri);
        if (sha256 != null) {
            node.put("sha256", sha256);
        }
        if (step != null) {
            node.put("step", step);
        }
        if (time != null) {
            node.put("time", time.toString());
        }
        if (run != null) {
            node.put("run", run);
        }
        try {
            return JsonFields.JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
