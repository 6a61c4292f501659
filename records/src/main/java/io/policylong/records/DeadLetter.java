package io.policylong.records;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * A record the pipeline could not use, with the reason; written to the dead-letter output instead of failing
 * the job.
 *
 * <p>JSON: {@code {"stage": "validate", "id": "doc-7", "excerpt": "...", "reason": "...", "origin":
 * "corpus/a.jsonl:12", "time": "2026-11-29T17:00:00Z"}}; a screening that failed in a scoring stage also has
 * {@code "screening": {"document": "doc-7", "policy_version": 3, "retryable": true}}.
 *
 * @param stage where it was rejected: {@code validate}, {@code policy}, {@code entropy}, {@code verification},
 *     ...
 * @param id the record id when one could be read, else null
 * @param excerpt the start of the raw record when no id could be read (at most {@link #EXCERPT_CHARS}
 *     characters), else null
 * @param reason why it was rejected
 * @param origin where it came from (file and line, or topic, partition and offset), or null
 * @param time when it was rejected
 * @param screening for a screening that failed in a scoring stage: which stored document, under which version,
 *     and whether trying again may succeed; null otherwise
 */
public record DeadLetter(String stage, String id, String excerpt, String reason, String origin, Instant time,
        FailedScreening screening) implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * A screening that failed for good in a scoring stage (after its attempts).
     *
     * @param documentId the stored document (the parent of a piece)
     * @param policyVersion the version it was screened under
     * @param retryable whether the failure may be transient (the job then screens the document again, bounded)
     */
    public record FailedScreening(String documentId, long policyVersion, boolean retryable) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** A dead letter that is not a failed screening. */
    public DeadLetter(String stage, String id, String excerpt, String reason, String origin, Instant time) {
        this(stage, id, excerpt, reason, origin, time, null);
    }

    /** Longest excerpt kept of a raw record. */
    public static final int EXCERPT_CHARS = 200;

    public DeadLetter {
        if (stage == null || reason == null || time == null) {
            throw new IllegalArgumentException("a dead letter needs a stage, a reason and a time");
        }
        if (excerpt != null && excerpt.length() > EXCERPT_CHARS) {
            excerpt = excerpt.substring(0, EXCERPT_CHARS);
        }
    }

    /** A dead letter for a record with a known id. */
    public static DeadLetter of(String stage, String id, String reason, String origin) {
        return new DeadLetter(stage, id, null, reason, origin, Instant.now());
    }

    /** A dead letter for a screening that failed in a scoring stage. */
    public static DeadLetter ofScreening(String stage, String id, String reason, FailedScreening screening) {
        return new DeadLetter(stage, id, null, reason, "policy version " + screening.policyVersion(), Instant.now(),
                screening);
    }

    /** A dead letter for a raw record whose id could not be read. */
    public static DeadLetter ofRaw(String stage, String raw, String reason, String origin) {
        return new DeadLetter(stage, null, raw, reason, origin, Instant.now());
    }

    /** The JSON form (one line). */
    public String toJson() {
        ObjectNode node = JsonFields.JSON.createObjectNode();
        node.put("stage", stage);
        if (id != null) {
            node.put("id", id);
        }
        if (excerpt != null) {
            node.put("excerpt", excerpt);
        }
        node.put("reason", reason);
        if (origin != null) {
            node.put("origin", origin);
        }
        node.put("time", time.toString());
        if (screening != null) {
            ObjectNode s = node.putObject("screening");
            s.put("document", screening.documentId());
            s.put("policy_version", screening.policyVersion());
            s.put("retryable", screening.retryable());
        }
        try {
            return JsonFields.JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses the JSON form. */
    public static DeadLetter fromJson(String json) throws InvalidRecordException {
        JsonFields f = JsonFields.parse(json, "dead letter");
        try {
            FailedScreening screening = null;
            com.fasterxml.jackson.databind.JsonNode s = f.node().get("screening");
            if (s != null && s.isObject()) {
                if (!s.path("document").isTextual() || !s.path("policy_version").canConvertToLong()
                        || !s.path("retryable").isBoolean()) {
                    throw f.error("\"screening\" needs \"document\", \"policy_version\" and \"retryable\"");
                }
                screening = new FailedScreening(s.get("document").asText(), s.get("policy_version").asLong(),
                        s.get("retryable").asBoolean());
            }
            return new DeadLetter(f.requiredText("stage"), f.optionalText("id"), f.optionalText("excerpt"),
                    f.requiredText("reason"), f.optionalText("origin"), Instant.parse(f.requiredText("time")),
                    screening);
        } catch (java.time.DateTimeException | IllegalArgumentException e) {
            throw f.error(e.getMessage());
        }
    }
}
