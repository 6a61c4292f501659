package io.policylong.pipeline.screening;

import io.policylong.records.Anchor;
import io.policylong.records.AnchorGain;
import io.policylong.records.SampleLayout;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Both layouts, filling, truncation at segment boundaries and the minimum fill. */
class SampleAssemblerTest {
    private static final String DOC_TEXT = "First part of the document. ".repeat(10) + "Second part here. ".repeat(10);

    private static SampleAssembler.DocumentInput document() {
        // One token per character keeps the arithmetic visible.
        int[] starts = new int[DOC_TEXT.length()];
        for (int i = 0; i < starts.length; i++) {
            starts[i] = i;
        }
        return new SampleAssembler.DocumentInput("doc-1", DOC_TEXT, DOC_TEXT.length(), starts,
                List.of(new Anchor(30, 5f, 0), new Anchor(400, 6f, 0)));
    }

    private static VerifiedContext context(String id, float score, int tokens, int anchorPosition, float gain) {
        return new VerifiedContext(new Candidate(id, "src", "context " + id, score, List.of()), tokens,
                List.of(new AnchorGain(anchorPosition, 5f, 5f * (1 - gain), gain, 0)));
    }

    private static ContextClassifier.Classification contexts() {
        return new ContextClassifier(0.4f, 0f).classify(List.of(
                context("p1", 9f, 100, 30, 0.8f),
                context("p2", 5f, 100, 400, 0.6f),
                context("n-early", 8f, 100, 30, -0.2f),
                context("n-late", 7f, 100, 400, 0f),
                context("n-big", 6f, 5000, 400, -0.1f)));
    }

    @Test
    void shuffleFillsWithPositivesThenNegativesAndEndsWithTheDocument() {
        SampleAssembler assembler = new SampleAssembler(SampleLayout.SHUFFLE, 900, 0.5, "\n\n", 2, 300);
        TrainingSample s = assembler.assemble(document(), 3, contexts()).orElseThrow();
        List<String> ids = s.segments().stream().map(SampleSegment::sourceId).toList();
        assertEquals("doc-1", ids.get(ids.size() - 1), "the document comes last");
        assertEquals(5, ids.size(), "document (460) + 4 contexts of 100 with separators fit in 900; n-big does not");
        assertTrue(ids.containsAll(List.of("p1", "p2", "n-early", "n-late")));
        assertEquals(460 + 400 + 4 * 2, s.tokens());
        assertTrue(s.tokens() <= 900);
        assertEquals(SampleAssembler.sampleId("doc-1", 3, document().text()), s.sampleId());
        assertEquals(ids, assembler.assemble(document(), 3, contexts()).orElseThrow().segments().stream()
                .map(SampleSegment::sourceId).toList(), "the same sample every time");
        assertEquals(SampleSegment.Role.POSITIVE, s.segments().stream().filter(x -> x.sourceId().equals("p1")).findFirst()
                .orElseThrow().role());
    }

    @Test
    void truncationKeepsHigherPriorityContexts() {
        SampleAssembler tight = new SampleAssembler(SampleLayout.SHUFFLE, 700, 0.5, "\n\n", 2, 300);
        List<String> ids = tight.assemble(document(), 3, contexts()).orElseThrow().segments().stream()
                .map(SampleSegment::sourceId).toList();
        assertEquals(3, ids.size(), "room for two contexts: the positives win");
        assertTrue(ids.containsAll(List.of("p1", "p2", "doc-1")));
    }

    @Test
    void samplesUnderTheMinimumFillAreDropped() {
        SampleAssembler demanding = new SampleAssembler(SampleLayout.SHUFFLE, 20_000, 0.5, "\n\n", 2, 300);
        assertEquals(Optional.empty(), demanding.assemble(document(), 3, contexts()));
        SampleAssembler small = new SampleAssembler(SampleLayout.SHUFFLE, 100, 0.1, "\n\n", 2, 300);
        assertEquals(Optional.empty(), small.assemble(document(), 3, contexts()), "the document alone is too long");
    }

    @Test
    void interleavePutsPositivesFirstAndEachNegativeBeforeTheTextItServesAndEndsWithTheDocument() {
        SampleAssembler assembler = new SampleAssembler(SampleLayout.INTERLEAVE, 1000, 0.5, "|", 1, 300);
        TrainingSample s = assembler.assemble(document(), 3, contexts()).orElseThrow();
        List<String> ids = s.segments().stream().map(SampleSegment::sourceId).toList();
        // A hard negative sits before the meta-chunk holding its earliest anchor (the text it was retrieved for),
        // like a positive it is context for what follows; the sample ends with document text.
        assertEquals(List.of("p1", "p2", "n-early", "doc-1#0", "n-late", "doc-1#1"), ids);
        assertEquals(SampleSegment.Role.DOCUMENT, s.segments().get(s.segments().size() - 1).role());
        StringBuilder document = new StringBuilder();
        List<SampleSegment> parts = new ArrayList<>();
        for (SampleSegment seg : s.segments()) {
            if (seg.role() == SampleSegment.Role.DOCUMENT) {
                document.append(seg.text());
                parts.add(seg);
            }
        }
        assertEquals(DOC_TEXT, document.toString(), "the meta-chunks are the whole document in order");
        assertEquals(DOC_TEXT.length(), parts.stream().mapToInt(SampleSegment::tokens).sum());
        assertEquals(DOC_TEXT.length() + 400 + 5, s.tokens());
        assertTrue(s.text().startsWith("context p1|context p2|context n-early|First part"), s.text());
    }

    @Test
    void differentVersionsGiveDifferentSampleIds() {
        assertNotEquals(SampleAssembler.sampleId("doc-1", 1, "t"), SampleAssembler.sampleId("doc-1", 2, "t"));
        assertEquals(32, SampleAssembler.sampleId("doc-1", 1, "t").length());
        assertEquals(SampleAssembler.sampleId("doc-1", 1, "t"), SampleAssembler.sampleId("doc-1", 1, "t"), "stable");
        assertNotEquals(SampleAssembler.sampleId("doc-1", 1, "t"), SampleAssembler.sampleId("doc-1", 1, "new t"),
                "new text under the same id: another sample");
    }

    private static List<VerifiedContext> distractors(int count, int tokens) {
        List<VerifiedContext> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            list.add(new VerifiedContext(new Candidate("d" + i, "src", "distractor " + i, 1f, List.of()), tokens,
                    List.of()));
        }
        return list;
    }

    @Test
    void distractorsFillTheSampleTowardsItsTargetAfterTheVerifiedContexts() {
        SampleAssembler assembler = new SampleAssembler(SampleLayout.SHUFFLE, 2000, 0.9, "|", 1, 300);
        assertTrue(assembler.assemble(document(), 3, contexts()).isEmpty(),
                "without filling, the verified contexts cannot reach 90 % of the target");
        TrainingSample s = assembler.assemble(document(), 3, contexts(), distractors(30, 100)).orElseThrow();
        assertTrue(s.tokens() <= 2000 && s.tokens() >= 1800, "filled to " + s.tokens());
        long added = s.segments().stream().filter(x -> x.role() == SampleSegment.Role.DISTRACTOR).count();
        assertEquals((2000 - (460 + 400 + 4)) / 101, added, "as many as fit, whole");
        assertTrue(s.segments().stream().filter(x -> x.role() == SampleSegment.Role.DISTRACTOR)
                .allMatch(x -> x.gains().isEmpty()), "distractors carry no gains: they were never verified");
        assertEquals(SampleSegment.Role.DOCUMENT, s.segments().get(s.segments().size() - 1).role());
        assertEquals(2, s.segments().stream().filter(x -> x.role() == SampleSegment.Role.POSITIVE).count(),
                "positives come first in what is kept");

        TrainingSample interleaved = new SampleAssembler(SampleLayout.INTERLEAVE, 2000, 0.9, "|", 1, 300)
                .assemble(document(), 3, contexts(), distractors(30, 100)).orElseThrow();
        assertTrue(interleaved.tokens() <= 2000 && interleaved.tokens() >= 1800, "filled to " + interleaved.tokens());
        assertEquals(SampleSegment.Role.DOCUMENT,
                interleaved.segments().get(interleaved.segments().size() - 1).role(), "ends with document text");
    }
}
