package io.policylong.evaluation;

import io.policylong.model.scoring.EntropyScorer;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The mean negative log-likelihood per token of held-out text: each text cut into windows of at most
 * {@code window} tokens, every position after the first of a window predicted.
 */
public final class HeldOutLoss {
    private HeldOutLoss() {
    }

    /** Nats per token over the texts' tokens (NaN without any). */
    public static double of(EntropyScorer scorer, List<long[]> texts, int window) {
        List<ScoreRequest> requests = new ArrayList<>();
        for (long[] ids : texts) {
            for (int start = 0; start + 1 < ids.length; start += window) {
                requests.add(ScoreRequest.allPositions(Arrays.copyOfRange(ids, start, Math.min(ids.length,
                        start + window))));
            }
        }
        double sum = 0;
        long count = 0;
        for (ScoreResult r : scorer.score(requests)) {
            for (float l : r.logprob()) {
                sum -= l;
                count++;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }
}
