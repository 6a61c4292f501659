package io.policylong.pipeline.screening;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Splits verified contexts into positives (the policy can exploit them: some anchor gains more than
 * {@code epsilon}) and hard negatives (retrieved, so they look relevant, yet no anchor gains more than
 * {@code epsilonNeg}); the rest are neither. Each list is ordered by retrieval score, highest first.
 */
public final class ContextClassifier {
    /** The two kinds of context a sample is built from. */
    public record Classification(List<VerifiedContext> positives, List<VerifiedContext> hardNegatives) {
        public Classification {
            positives = List.copyOf(positives);
            hardNegatives = List.copyOf(hardNegatives);
        }
    }

    private final float epsilon;
    private final float epsilonNeg;

    public ContextClassifier(float epsilon, float epsilonNeg) {
        if (epsilonNeg > epsilon) {
            throw new IllegalArgumentException("epsilonNeg (" + epsilonNeg + ") must not exceed epsilon (" + epsilon
                    + ")");
        }
        this.epsilon = epsilon;
        this.epsilonNeg = epsilonNeg;
    }

    /** Classifies verified contexts. */
    public Classification classify(List<VerifiedContext> contexts) {
        List<VerifiedContext> positives = new ArrayList<>();
        List<VerifiedContext> negatives = new ArrayList<>();
        for (VerifiedContext c : contexts) {
            if (c.gains().isEmpty()) {
                continue;
            }
            float best = c.bestGain();
            if (best > epsilon) {
                positives.add(c);
            } else if (best <= epsilonNeg) {
                negatives.add(c);
            }
        }
        Comparator<VerifiedContext> byScore = Comparator.comparingDouble((VerifiedContext c) -> c.candidate().score())
                .reversed().thenComparing(c -> c.candidate().chunkId());
        positives.sort(byScore);
        negatives.sort(byScore);
        return new Classification(positives, negatives);
    }
}
