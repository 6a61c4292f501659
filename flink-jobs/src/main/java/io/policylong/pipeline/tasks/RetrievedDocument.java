package io.policylong.pipeline.tasks;

import io.policylong.records.Anchor;
import io.policylong.pipeline.screening.Candidate;
import java.io.Serializable;
import java.util.List;

/**
 * A scored document with its anchors, the candidates retrieved for them to verify, and further retrieved
 * chunks that are not verified (similarity distractors that can fill its sample).
 */
public record RetrievedDocument(ScoredDocument scored, List<Anchor> anchors, List<Candidate> candidates,
        List<Candidate> distractors) implements Serializable {
    private static final long serialVersionUID = 1L;

    public RetrievedDocument {
        anchors = List.copyOf(anchors);
        candidates = List.copyOf(candidates);
        distractors = List.copyOf(distractors);
    }

    /** Without distractors. */
    public RetrievedDocument(ScoredDocument scored, List<Anchor> anchors, List<Candidate> candidates) {
        this(scored, anchors, candidates, List.of());
    }
}
