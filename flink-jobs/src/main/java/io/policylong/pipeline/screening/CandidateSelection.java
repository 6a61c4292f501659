package io.policylong.pipeline.screening;

import io.policylong.pipeline.retrieval.ChunkHit;
import io.policylong.records.Anchor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Chooses the candidates to verify from each anchor's own retrieval results. Every anchor has its own query
 * and its own ranked top-k; a chunk serves exactly the anchors whose results hold it (its one verification pass
 * measures all of them). The candidate budget is shared out over the anchors rank by rank (each anchor's best
 * chunk first, strongest anchor first, then each one's second best, and so on), so no anchor is starved by
 * another whose query scores higher: BM25 scores of different queries are not comparable, ranks are. A chunk's
 * score is its reciprocal-rank fusion over the anchors that found it.
 */
public final class CandidateSelection {
    /** The constant of reciprocal-rank fusion: ranks far down count little, the first ranks about equally. */
    static final int FUSION_K = 60;

    private CandidateSelection() {
    }

    /**
     * One anchor's results.
     *
     * @param anchor the anchor
     * @param hits its query's chunks, best first (already without the document's own or duplicate chunks)
     */
    public record AnchorHits(Anchor anchor, List<ChunkHit> hits) {
    }

    /**
     * The selection.
     *
     * @param candidates the chunks to verify, highest fused score first
     * @param anchors every anchor with the number of selected candidates that serve it
     * @param distractors further chunks the anchors retrieved, not to be verified: similarity distractors that
     *     can fill a sample towards its target length, in the same rank-by-rank order
     */
    public record Selection(List<Candidate> candidates, List<Anchor> anchors, List<Candidate> distractors) {
    }

    /** Selects at most {@code budget} candidates, and no distractors. */
    public static Selection select(List<AnchorHits> perAnchor, int budget) {
        return select(perAnchor, budget, 0);
    }

    /**
     * Selects at most {@code budget} candidates, then distractors among the remaining chunks until their
     * lengths (as the index counted them) reach {@code distractorTokens}.
     */
    public static Selection select(List<AnchorHits> perAnchor, int budget, long distractorTokens) {
        List<AnchorHits> strongestFirst = new ArrayList<>(perAnchor);
        strongestFirst.sort(Comparator.comparingDouble((AnchorHits a) -> a.anchor().entropy()).reversed()
                .thenComparingInt(a -> a.anchor().position()));
        Map<String, ChunkHit> chosen = new LinkedHashMap<>();
        int deepest = perAnchor.stream().mapToInt(a -> a.hits().size()).max().orElse(0);
        for (int rank = 0; rank < deepest && chosen.size() < budget; rank++) {
            for (AnchorHits a : strongestFirst) {
                if (rank < a.hits().size() && chosen.size() < budget) {
                    chosen.putIfAbsent(a.hits().get(rank).chunkId(), a.hits().get(rank));
                }
            }
        }
        Map<String, List<Anchor>> served = new HashMap<>();
        Map<String, Double> fused = new HashMap<>();
        Map<Integer, Integer> perAnchorCount = new HashMap<>();
        for (AnchorHits a : perAnchor) {
            for (int rank = 0; rank < a.hits().size(); rank++) {
                String id = a.hits().get(rank).chunkId();
                if (chosen.containsKey(id)) {
                    served.computeIfAbsent(id, k -> new ArrayList<>()).add(a.anchor());
                    fused.merge(id, 1.0 / (FUSION_K + rank + 1), Double::sum);
                    perAnchorCount.merge(a.anchor().position(), 1, Integer::sum);
                }
            }
        }
        List<Candidate> candidates = new ArrayList<>();
        for (ChunkHit hit : chosen.values()) {
            List<Anchor> anchors = new ArrayList<>(served.get(hit.chunkId()));
            anchors.sort(Comparator.comparingInt(Anchor::position));
            candidates.add(new Candidate(hit.chunkId(), hit.documentId(), hit.text(),
                    fused.get(hit.chunkId()).floatValue(), anchors));
        }
        candidates.sort(Comparator.comparingDouble(Candidate::score).reversed().thenComparing(Candidate::chunkId));
        List<Anchor> anchors = new ArrayList<>();
        for (AnchorHits a : perAnchor) {
            anchors.add(a.anchor().withCandidates(perAnchorCount.getOrDefault(a.anchor().position(), 0)));
        }
        List<Candidate> distractors = new ArrayList<>();
        Map<String, Boolean> taken = new HashMap<>();
        chosen.keySet().forEach(id -> taken.put(id, true));
        long tokens = 0;
        for (int rank = 0; rank < deepest && tokens < distractorTokens; rank++) {
            for (AnchorHits a : strongestFirst) {
                if (rank < a.hits().size() && tokens < distractorTokens) {
                    ChunkHit hit = a.hits().get(rank);
                    if (taken.putIfAbsent(hit.chunkId(), true) == null) {
                        distractors.add(new Candidate(hit.chunkId(), hit.documentId(), hit.text(),
                                (float) (1.0 / (FUSION_K + rank + 1)), List.of(a.anchor())));
                        tokens += hit.tokens();
                    }
                }
            }
        }
        return new Selection(candidates, anchors, distractors);
    }
}
