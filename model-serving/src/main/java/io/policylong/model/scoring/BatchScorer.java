package io.policylong.model.scoring;

import java.util.List;

/** Scores a batch of sequences in one call; the results are in request order. */
@FunctionalInterface
public interface BatchScorer {
    List<ScoreResult> score(List<ScoreRequest> requests);
}
