package io.policylong.pipeline.tasks;

import io.policylong.records.Anchor;
import io.policylong.pipeline.screening.Candidate;
import java.io.Serializable;
import java.util.List;

/** A scored document with its anchors and the candidates retrieved for them. */
public record RetrievedDocument(ScoredDocument scored, List<Anchor> anchors, List<Candidate> candidates)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    public RetrievedDocument {
        anchors = List.copyOf(anchors);
        candidates = List.copyOf(candidates);
    }
}
