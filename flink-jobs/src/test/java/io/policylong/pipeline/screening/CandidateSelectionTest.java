package io.policylong.pipeline.screening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.pipeline.retrieval.ChunkHit;
import io.policylong.records.Anchor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Each anchor its own results, chunks serving exactly the anchors that found them, the budget shared out. */
class CandidateSelectionTest {
    private static List<ChunkHit> hits(String prefix, int count, float topScore) {
        List<ChunkHit> hits = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            hits.add(new ChunkHit(prefix + i, "src-" + prefix, "text " + prefix + i, 10, topScore - i));
        }
        return hits;
    }

    @Test
    void noAnchorIsStarvedByAQueryThatScoresHigher() {
        Anchor strong = new Anchor(10, 5f, 0);
        Anchor weak = new Anchor(12, 3f, 0);
        // The strong anchor's query scores far higher in BM25 terms: a cut by raw score would keep only its chunks.
        CandidateSelection.Selection s = CandidateSelection.select(List.of(
                new CandidateSelection.AnchorHits(strong, hits("s", 6, 90f)),
                new CandidateSelection.AnchorHits(weak, hits("w", 6, 9f))), 4);
        assertEquals(List.of("s0", "s1", "w0", "w1"), s.candidates().stream().map(Candidate::chunkId).sorted()
                .toList(), "each anchor's best two");
        Map<Integer, Integer> counts = s.anchors().stream().collect(Collectors.toMap(Anchor::position,
                Anchor::candidates));
        assertEquals(Map.of(10, 2, 12, 2), counts, "recorded per anchor");
    }

    @Test
    void aChunkServesExactlyTheAnchorsWhoseOwnResultsHoldIt() {
        Anchor a = new Anchor(10, 5f, 0);
        Anchor b = new Anchor(11, 4f, 0);
        ChunkHit shared = new ChunkHit("shared", "x", "shared text", 10, 5f);
        ChunkHit onlyA = new ChunkHit("only-a", "y", "a text", 10, 6f);
        CandidateSelection.Selection s = CandidateSelection.select(List.of(
                new CandidateSelection.AnchorHits(a, List.of(onlyA, shared)),
                new CandidateSelection.AnchorHits(b, List.of(shared))), 8);
        Map<String, List<Integer>> served = s.candidates().stream().collect(Collectors.toMap(Candidate::chunkId,
                c -> c.anchors().stream().map(Anchor::position).toList()));
        assertEquals(List.of(10, 11), served.get("shared"), "one verification pass measures both anchors");
        assertEquals(List.of(10), served.get("only-a"), "not the neighbouring anchor whose query did not find it");
        // Found by both, at ranks 2 and 1: fused above the chunk found once at rank 1.
        assertEquals("shared", s.candidates().get(0).chunkId());
        assertTrue(s.candidates().get(0).score() > s.candidates().get(1).score());
    }

    @Test
    void anAnchorWithoutResultsRecordsNone() {
        Anchor a = new Anchor(10, 5f, 0);
        Anchor empty = new Anchor(30, 4f, 0);
        CandidateSelection.Selection s = CandidateSelection.select(List.of(
                new CandidateSelection.AnchorHits(a, hits("a", 3, 5f)),
                new CandidateSelection.AnchorHits(empty, List.of())), 8);
        assertEquals(3, s.candidates().size());
        assertEquals(0, s.anchors().get(1).candidates());
        assertEquals(3, s.anchors().get(0).candidates());
    }

    @Test
    void furtherChunksBecomeDistractorsUpToATokenBudget() {
        Anchor a = new Anchor(10, 5f, 0);
        Anchor b = new Anchor(20, 4f, 0);
        CandidateSelection.Selection s = CandidateSelection.select(List.of(
                new CandidateSelection.AnchorHits(a, hits("a", 6, 9f)),
                new CandidateSelection.AnchorHits(b, hits("b", 6, 9f))), 2, 35);
        assertEquals(List.of("a0", "b0"), s.candidates().stream().map(Candidate::chunkId).sorted().toList());
        assertEquals(List.of("a1", "b1", "a2", "b2"), s.distractors().stream().map(Candidate::chunkId).toList(),
                "the next ranks in turn, until 35 tokens (10 each) are reached");
        assertTrue(s.distractors().stream().noneMatch(d -> s.candidates().stream()
                .anyMatch(c -> c.chunkId().equals(d.chunkId()))), "never a chunk that is verified");
    }
}
