package io.policylong.model.scoring;

/**
 * A token sequence to score.
 *
 * @param tokenIds the sequence, at least one token
 * @param positions the positions {@code i} whose next-token distribution is wanted (entropy of the
 *     distribution over token {@code i+1} given tokens {@code 0..i}, log-probability of the actual token
 *     {@code i+1}), each in {@code [0, length-2]}, strictly increasing; null for all positions
 */
public record ScoreRequest(long[] tokenIds, int[] positions) {

    public ScoreRequest {
        if (tokenIds == null || tokenIds.length == 0) {
            throw new IllegalArgumentException("a score request needs at least one token");
        }
        // Copies, so that a caller changing its arrays later cannot undo the validation done at submission.
        tokenIds = tokenIds.clone();
        positions = positions == null ? null : positions.clone();
        if (positions != null) {
            for (int i = 0; i < positions.length; i++) {
                int p = positions[i];
                if (p < 0 || p > tokenIds.length - 2) {
                    throw new IllegalArgumentException("position " + p + " is outside [0, " + (tokenIds.length - 2)
                            + "] for a sequence of " + tokenIds.length + " tokens");
                }
                if (i > 0 && p <= positions[i - 1]) {
                    throw new IllegalArgumentException("positions must be strictly increasing, got " + positions[i - 1]
                            + " then " + p);
                }
            }
        }
    }

    /** Scores every position. */
    public static ScoreRequest allPositions(long[] tokenIds) {
        return new ScoreRequest(tokenIds, null);
    }

    /** Sequence length in tokens. */
    public int length() {
        return tokenIds.length;
    }

    /** Number of positions that will be scored. */
    public int scoredCount() {
        return positions == null ? tokenIds.length - 1 : positions.length;
    }

    /** The i-th scored position. */
    public int position(int i) {
        return positions == null ? i : positions[i];
    }
}
