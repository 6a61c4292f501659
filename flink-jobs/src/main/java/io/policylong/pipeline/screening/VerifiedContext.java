package io.policylong.pipeline.screening;

import io.policylong.records.AnchorGain;
import java.io.Serializable;
import java.util.List;

/**
 * A candidate after verification: its gains at every anchor it was retrieved for, and its length in tokens.
 */
public record VerifiedContext(Candidate candidate, int tokens, List<AnchorGain> gains) implements Serializable {
    private static final long serialVersionUID = 1L;

    public VerifiedContext {
        gains = List.copyOf(gains);
    }

    /** The largest gain over its anchors (negative infinity when it has none). */
    public float bestGain() {
        float best = Float.NEGATIVE_INFINITY;
        for (AnchorGain g : gains) {
            best = Math.max(best, g.gain());
        }
        return best;
    }
}
