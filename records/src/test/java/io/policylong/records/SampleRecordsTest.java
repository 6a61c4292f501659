package io.policylong.records;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class SampleRecordsTest {

    private static TrainingSample sample(long[] ids) {
        return new TrainingSample("abc", "doc-1", 4, SampleLayout.SHUFFLE, 12, "\n\n", List.of(
                new SampleSegment(SampleSegment.Role.POSITIVE, "src#0", "context", 7,
                        List.of(new AnchorGain(9, 3.5f, 1.25f, 0.642857f, 0))),
                new SampleSegment(SampleSegment.Role.HARD_NEGATIVE, "other#2", "distractor", 10,
                        List.of(new AnchorGain(9, 3.5f, 3.75f, -0.071428f, 0))),
                new SampleSegment(SampleSegment.Role.DOCUMENT, "doc-1", "the document", 12, List.of())),
                List.of(new Anchor(9, 3.5f, 0)), ids);
    }

    @Test
    void trainingSampleJsonHasTheDocumentedFieldsAndRoundTrips() throws Exception {
        TrainingSample s = sample(new long[] {1, 2, 3});
        JsonNode json = new ObjectMapper().readTree(s.toJson());
        for (String field : List.of("sample_id", "doc_id", "policy_version", "layout", "num_tokens", "separator",
                "segments", "anchors", "input_ids")) {
            assertTrue(json.has(field), field);
        }
        JsonNode positive = json.get("segments").get(0);
        assertEquals("positive", positive.get("role").asText());
        assertEquals(1.25, positive.get("anchors").get(0).get("entropy_with_context").asDouble(), 1e-6);
        assertEquals("hard_negative", json.get("segments").get(1).get("role").asText());
        assertTrue(!json.get("segments").get(2).has("anchors"), "document text has no anchors of its own");
        TrainingSample back = TrainingSample.fromJson(s.toJson());
        assertEquals(s.segments(), back.segments());
        assertEquals(s.anchors(), back.anchors());
        assertArrayEquals(s.inputIds(), back.inputIds());
        assertEquals("context\n\ndistractor\n\nthe document", back.text());
        assertNull(TrainingSample.fromJson(sample(null).toJson()).inputIds());
    }

    @Test
    void deadLetterJsonRoundTripsAndTrimsExcerpts() throws Exception {
        DeadLetter d = DeadLetter.ofRaw("validate", "x".repeat(500), "not valid JSON", "a.jsonl:3");
        assertEquals(DeadLetter.EXCERPT_CHARS, d.excerpt().length());
        assertEquals(d, DeadLetter.fromJson(d.toJson()));
        assertThrows(InvalidRecordException.class, () -> DeadLetter.fromJson("{\"stage\": \"x\"}"));
        DeadLetter failed = DeadLetter.ofScreening("entropy", "doc#piece-1", "an attempt took longer than PT1S",
                new DeadLetter.FailedScreening("doc", 4, true));
        assertEquals(failed, DeadLetter.fromJson(failed.toJson()), "a failed screening names document and version");
        assertEquals("policy version 4", failed.origin());
        assertThrows(InvalidRecordException.class, () -> DeadLetter.fromJson("{\"stage\": \"entropy\", "
                + "\"reason\": \"r\", \"time\": \"2026-12-02T00:00:00Z\", \"screening\": {\"document\": \"d\"}}"));
    }
}
