package io.policylong.trainer.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.model.tokenizer.ByteLevelTokenizerJson;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import io.policylong.records.Anchor;
import io.policylong.records.SampleLayout;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Samples as rows with the project's byte-level tokenizer (a real tokenizer.json: token id = UTF-8 byte). */
class SampleRowsTest {
    private static CheckpointTokenizer tokenizer;

    @BeforeAll
    static void tokenizer(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokenizer.json");
        ByteLevelTokenizerJson.write(file);
        tokenizer = CheckpointTokenizer.load(file, false);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private static SampleSegment segment(SampleSegment.Role role, String text) {
        return new SampleSegment(role, role + "-" + text.length(), text, text.length(), List.of());
    }

    /** The byte-level tokenizer's ids of a text: its UTF-8 bytes. */
    static long[] bytes(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        long[] ids = new long[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = b[i] & 0xff;
        }
        return ids;
    }

    private static TrainingSample sample(List<SampleSegment> segments, List<Anchor> anchors) {
        return new TrainingSample("s1", "d1", 3, SampleLayout.INTERLEAVE, 0, "|", segments, anchors, null);
    }

    @Test
    void aSampleIsOneRowOfItsSegmentsWithAnchorsFoundThroughTheDocumentSegments() {
        // Interleaved: a positive, document part 0, a hard negative, document part 1.
        List<SampleSegment> segments = List.of(segment(SampleSegment.Role.POSITIVE, "ctx-a"),
                segment(SampleSegment.Role.DOCUMENT, "The cat "), segment(SampleSegment.Role.HARD_NEGATIVE, "neg"),
                segment(SampleSegment.Role.DOCUMENT, "sat on the mat."));
        // Document tokens: "The cat " is 0..7, "sat on the mat." is 8..22.
        TrainingSample sample = sample(segments, List.of(new Anchor(4, 2f, 0), new Anchor(10, 3f, 0)));
        SampleRow row = new SampleRows(tokenizer::encodeIds, 4096).row(sample);
        String text = "ctx-a|The cat |neg|sat on the mat.";
        assertArrayEquals(bytes(text), row.tokens());
        assertEquals(text.indexOf("cat"), row.anchorIndices()[0]);
        assertEquals(text.indexOf("t on"), row.anchorIndices()[1]);
        assertEquals('c', text.charAt(row.anchorIndices()[0]));
        assertFalse(row.cut());
        assertEquals(3, row.policyVersion());
        assertEquals("s1", row.sampleId());
    }

    @Test
    void aLongSampleLosesContextsDistractorsFirstAndKeepsItsDocument() {
        List<SampleSegment> segments = new ArrayList<>(List.of(segment(SampleSegment.Role.POSITIVE, "p".repeat(10)),
                segment(SampleSegment.Role.DISTRACTOR, "x".repeat(10)),
                segment(SampleSegment.Role.HARD_NEGATIVE, "n".repeat(10)),
                segment(SampleSegment.Role.DOCUMENT, "document text")));
        TrainingSample sample = sample(segments, List.of(new Anchor(2, 1f, 0)));
        // All: 10+1+10+1+10+1+13 = 46 tokens. At 35 the distractor goes; at 24 the hard negative too.
        SampleRow at35 = new SampleRows(tokenizer::encodeIds, 35).row(sample);
        assertArrayEquals(bytes("pppppppppp|nnnnnnnnnn|document text"), at35.tokens());
        assertTrue(at35.cut());
        SampleRow at24 = new SampleRows(tokenizer::encodeIds, 24).row(sample);
        assertArrayEquals(bytes("pppppppppp|document text"), at24.tokens());
        assertEquals("pppppppppp|document text".indexOf('c'), at24.anchorIndices()[0]);
        SampleRow at13 = new SampleRows(tokenizer::encodeIds, 13).row(sample);
        assertArrayEquals(bytes("document text"), at13.tokens());
        // Only a document longer than the row loses its end (and the anchors there).
        SampleRow at5 = new SampleRows(tokenizer::encodeIds, 5).row(sample(segments,
                List.of(new Anchor(2, 1f, 0), new Anchor(9, 1f, 0))));
        assertArrayEquals(bytes("docum"), at5.tokens());
        assertArrayEquals(new int[] {2}, at5.anchorIndices());
        assertTrue(at5.cut());
        assertFalse(new SampleRows(tokenizer::encodeIds, 46).row(sample).cut());
    }

    @Test
    void theJobsOwnIdsAreUsedWhenTheyAgreeInLength() {
        List<SampleSegment> segments = List.of(segment(SampleSegment.Role.POSITIVE, "ab"),
                segment(SampleSegment.Role.DOCUMENT, "cd"));
        long[] own = {7, 8, 9, 10, 11};
        TrainingSample withIds = sample(segments, List.of(new Anchor(1, 1f, 0))).withInputIds(own);
        SampleRow row = new SampleRows(tokenizer::encodeIds, 100).row(withIds);
        assertArrayEquals(own, row.tokens());
        assertArrayEquals(new int[] {4}, row.anchorIndices());
        long[] otherLength = {7, 8, 9};
        assertArrayEquals(bytes("ab|cd"), new SampleRows(tokenizer::encodeIds, 100).row(
                sample(segments, List.of()).withInputIds(otherLength)).tokens());
    }

    @Test
    void aSampleWithoutItsDocumentIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SampleRows(
                tokenizer::encodeIds, 100).row(sample(List.of(segment(SampleSegment.Role.POSITIVE, "ab")),
                        List.of())));
        assertTrue(e.getMessage().contains("s1"), e.getMessage());
    }
}
