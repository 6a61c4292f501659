package io.policylong.pipeline.screening;

import io.policylong.text.TextChunks;
import io.policylong.records.Anchor;
import io.policylong.records.AnchorGain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Entropy windows, anchors, queries, information gain, classification and near-duplicates. */
class ScreeningLogicTest {

    @Test
    void windowsScoreEveryTokenOnceWithLeftContext() {
        assertEquals(List.of(new ScoringWindows.Window(0, 100, 1)), ScoringWindows.plan(100, 128, 32));
        List<ScoringWindows.Window> windows = ScoringWindows.plan(1000, 256, 64);
        int next = 1;
        for (ScoringWindows.Window w : windows) {
            assertEquals(next, w.firstScored(), "no gap and no overlap in scored positions");
            assertTrue(w.end() - w.start() <= 256);
            assertTrue(w.firstScored() == 1 || w.firstScored() - w.start() >= 64, "enough left context: " + w);
            next = w.end();
        }
        assertEquals(1000, next);
    }

    @Test
    void anchorsAreTheStrongestPositionsAboveMeanPlusAlphaStd() {
        float[] h = new float[40];
        for (int t = 0; t < h.length; t++) {
            h[t] = 1.0f + (t % 2) * 0.1f;
        }
        h[2] = 50f; // inside the ignored start
        h[12] = 6f;
        h[25] = 9f;
        h[30] = 7f;
        AnchorSelector selector = new AnchorSelector(2.0, 2, 4);
        List<Anchor> anchors = selector.select(h, null);
        assertEquals(List.of(25, 30), anchors.stream().map(Anchor::position).toList(),
                "the two strongest, in document order; position 2 is ignored");
        assertEquals(9f, anchors.get(0).entropy());
        assertEquals(3, new AnchorSelector(2.0, 10, 4).select(h, null).size());
        assertTrue(new AnchorSelector(2.0, 10, 4).select(new float[] {0, 1, 1, 1, 1, 1, 1}, null).isEmpty(),
                "a flat profile has no anchors");
    }

    @Test
    void everyAnchorHasItsOwnQueryEvenWhenWindowsOverlap() {
        String text = "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj";
        int[] starts = new int[10];
        int[] ends = new int[10];
        for (int i = 0; i < 10; i++) {
            starts[i] = i * 5;
            ends[i] = i * 5 + 4;
        }
        QueryPlanner planner = new QueryPlanner(1);
        List<AnchorQuery> queries = planner.plan(List.of(new Anchor(2, 3f, 0), new Anchor(3, 3f, 0),
                new Anchor(8, 3f, 0)), text, starts, ends);
        assertEquals(3, queries.size());
        assertEquals("bbbb cccc dddd", queries.get(0).text());
        assertEquals("cccc dddd eeee", queries.get(1).text());
        assertEquals(3, queries.get(1).anchor().position());
        assertEquals("hhhh iiii jjjj", queries.get(2).text());
    }

    @Test
    void informationGainIsTheRelativeEntropyDrop() {
        assertEquals(0.75f, InformationGain.of(4f, 1f), 1e-6);
        assertEquals(0f, InformationGain.of(4f, 4f));
        assertEquals(-0.5f, InformationGain.of(2f, 3f), 1e-6);
        assertEquals(0f, InformationGain.of(0f, 1f), "no uncertainty, no gain");
    }

    private static VerifiedContext context(String id, float score, float... gains) {
        List<AnchorGain> list = new java.util.ArrayList<>();
        for (int i = 0; i < gains.length; i++) {
            list.add(new AnchorGain(10 + i, 4f, 4f * (1 - gains[i]), gains[i], 0));
        }
        return new VerifiedContext(new Candidate(id, "src-" + id, "text " + id, score, List.of()), 10, list);
    }

    @Test
    void classifiesByGainAndOrdersByRetrievalScore() {
        ContextClassifier classifier = new ContextClassifier(0.4f, 0.0f);
        ContextClassifier.Classification c = classifier.classify(List.of(
                context("weak-positive", 1f, 0.1f, 0.5f),
                context("strong-positive", 9f, 0.9f),
                context("middle", 5f, 0.2f),
                context("negative", 3f, -0.1f, 0.0f),
                context("better-negative", 7f, -0.3f),
                context("edge", 8f, 0.4f)));
        assertEquals(List.of("strong-positive", "weak-positive"),
                c.positives().stream().map(v -> v.candidate().chunkId()).toList());
        assertEquals(List.of("better-negative", "negative"),
                c.hardNegatives().stream().map(v -> v.candidate().chunkId()).toList(),
                "dI <= 0 at every anchor; 'edge' (0.4) and 'middle' (0.2) are neither");
    }

    @Test
    void nearDuplicatesShareMostShingles() {
        NearDuplicates duplicates = new NearDuplicates(3, 0.5);
        Set<String> document = duplicates.shingles("The quick brown fox jumps over the lazy dog near the river bank");
        assertTrue(duplicates.isNearDuplicate("the quick brown fox jumps over the lazy dog", document));
        assertFalse(duplicates.isNearDuplicate("a completely different sentence about quick foxes and dogs", document));
        assertFalse(duplicates.isNearDuplicate("too short", document));
    }

    @Test
    void metaChunksCoverTheTextAndRespectTheSize() {
        String paragraph = "One sentence here. Another sentence follows it. ".repeat(40);
        String text = "Title\n" + paragraph + "\nShort closing paragraph.\n";
        List<int[]> chunks = TextChunks.split(text, 300);
        StringBuilder rebuilt = new StringBuilder();
        for (int[] c : chunks) {
            assertTrue(c[1] - c[0] <= 300, "chunk of " + (c[1] - c[0]));
            rebuilt.append(text, c[0], c[1]);
        }
        assertEquals(text, rebuilt.toString());
        assertTrue(chunks.size() >= text.length() / 300);
        assertTrue(text.substring(chunks.get(1)[0], chunks.get(1)[1]).endsWith(". "), "cut at a sentence end");
    }
}
