package io.policylong.records;

import java.io.Serializable;

/**
 * A position where the policy is unusually unsure: the entropy of its distribution over this token, given the
 * tokens before it, is above the document's threshold.
 *
 * @param position index of the token in the document
 * @param entropy entropy in nats of the distribution of that token given the document before it
 * @param windowStart first document token of the scoring window the entropy was computed in (0 unless the
 *     document was scored in windows); verification uses the same window so H and H' differ only by the
 *     prepended context
 * @param candidates how many retrieved candidates were verified at this anchor (0 before retrieval)
 */
public record Anchor(int position, float entropy, int windowStart, int candidates) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** An anchor before retrieval. */
    public Anchor(int position, float entropy, int windowStart) {
        this(position, entropy, windowStart, 0);
    }

    /** This anchor with the number of candidates verified at it. */
    public Anchor withCandidates(int count) {
        return new Anchor(position, entropy, windowStart, count);
    }
}
