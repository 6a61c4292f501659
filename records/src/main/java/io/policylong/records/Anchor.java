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
 */
public record Anchor(int position, float entropy, int windowStart) implements Serializable {
    private static final long serialVersionUID = 1L;
}
