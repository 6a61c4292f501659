package io.policylong.records;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A training sample: segments in order (contexts and document text), joined by the separator. Its JSON form
 * (one object per line of the samples output) carries everything needed to recompute every H, H' and dI it
 * reports with the same checkpoint (see {@link #toJson()}).
 *
 * @param sampleId stable id: the same document screened under the same version always gives the same id
 * @param documentId the document
 * @param policyVersion the checkpoint version that screened it
 * @param layout how the segments are arranged
 * @param tokens total length in tokens, separators included
 * @param separator text between segments
 * @param segments the parts in order
 * @param anchors the document's anchors
 * @param inputIds token ids of the whole sample, or null when not requested
 */
public record TrainingSample(String sampleId, String documentId, long policyVersion, SampleLayout layout, int tokens,
        String separator, List<SampleSegment> segments, List<Anchor> anchors, long[] inputIds) implements Serializable {
    private static final long serialVersionUID = 1L;

    public TrainingSample {
        segments = List.copyOf(segments);
        anchors = List.copyOf(anchors);
    }

    /** The same sample with the token ids of its whole text (and the exact length they give). */
    public TrainingSample withInputIds(long[] ids) {
        return new TrainingSample(sampleId, documentId, policyVersion, layout, ids.length, separator, segments, anchors,
                ids.clone());
    }

    /**
     * The JSON form (one line): {@code sample_id}, {@code doc_id}, {@code policy_version}, {@code layout},
     * {@code num_tokens}, {@code separator}, {@code segments} (each: {@code role}, {@code source_id},
     * {@code text}, {@code num_tokens} and, for contexts, {@code anchors} with {@code position},
     * {@code entropy}, {@code entropy_with_context}, {@code gain} and {@code window_start}), the document's
     * {@code anchors} ({@code position}, {@code entropy}, {@code window_start}, {@code candidates}) and, when present,
     * {@code input_ids}.
     */
    public String toJson() {
        ObjectNode node = JsonFields.JSON.createObjectNode();
        node.put("sample_id", sampleId);
        node.put("doc_id", documentId);
        node.put("policy_version", policyVersion);
        node.put("layout", layout.jsonName());
        node.put("num_tokens", tokens);
        node.put("separator", separator);
        ArrayNode segmentArray = node.putArray("segments");
        for (SampleSegment s : segments) {
            ObjectNode seg = segmentArray.addObject();
            seg.put("role", s.role().jsonName());
            seg.put("source_id", s.sourceId());
            seg.put("text", s.text());
            seg.put("num_tokens", s.tokens());
            if (s.role() != SampleSegment.Role.DOCUMENT) {
                ArrayNode gains = seg.putArray("anchors");
                for (AnchorGain g : s.gains()) {
                    ObjectNode a = gains.addObject();
                    a.put("position", g.position());
                    a.put("entropy", g.entropy());
                    a.put("entropy_with_context", g.entropyWithContext());
                    a.put("gain", g.gain());
                    a.put("window_start", g.windowStart());
                }
            }
        }
        ArrayNode anchorArray = node.putArray("anchors");
        for (Anchor a : anchors) {
            ObjectNode o = anchorArray.addObject();
            o.put("position", a.position());
            o.put("entropy", a.entropy());
            o.put("window_start", a.windowStart());
            o.put("candidates", a.candidates());
        }
        if (inputIds != null) {
            ArrayNode ids = node.putArray("input_ids");
            for (long id : inputIds) {
                ids.add(id);
            }
        }
        try {
            return JsonFields.JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses the JSON form. */
    public static TrainingSample fromJson(String json) throws InvalidRecordException {
        JsonFields f = JsonFields.parse(json, "training sample");
        try {
            JsonNode root = f.node();
            List<SampleSegment> segments = new ArrayList<>();
            for (JsonNode s : root.path("segments")) {
                List<AnchorGain> gains = new ArrayList<>();
                for (JsonNode a : s.path("anchors")) {
                    gains.add(new AnchorGain(a.path("position").asInt(), (float) a.path("entropy").asDouble(),
                            (float) a.path("entropy_with_context").asDouble(), (float) a.path("gain").asDouble(),
                            a.path("window_start").asInt()));
                }
                segments.add(new SampleSegment(SampleSegment.Role.valueOf(s.path("role").asText().toUpperCase(
                        java.util.Locale.ROOT)), s.path("source_id").asText(), s.path("text").asText(),
                        s.path("num_tokens").asInt(), gains));
            }
            List<Anchor> anchors = new ArrayList<>();
            for (JsonNode a : root.path("anchors")) {
                anchors.add(new Anchor(a.path("position").asInt(), (float) a.path("entropy").asDouble(),
                        a.path("window_start").asInt(), a.path("candidates").asInt()));
            }
            long[] ids = null;
            if (root.has("input_ids")) {
                ids = new long[root.get("input_ids").size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = root.get("input_ids").get(i).asLong();
                }
            }
            return new TrainingSample(f.requiredText("sample_id"), f.requiredText("doc_id"),
                    f.requiredLong("policy_version"), SampleLayout.fromName(f.requiredText("layout")),
                    (int) f.requiredLong("num_tokens"), f.requiredText("separator"), segments, anchors, ids);
        } catch (IllegalArgumentException e) {
            throw f.error(e.getMessage());
        }
    }

    /** The whole sample as text. */
    public String text() {
        StringBuilder b = new StringBuilder();
        for (SampleSegment s : segments) {
            if (b.length() > 0) {
                b.append(separator);
            }
            b.append(s.text());
        }
        return b.toString();
    }
}
