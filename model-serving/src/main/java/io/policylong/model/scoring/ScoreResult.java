package io.policylong.model.scoring;

/**
 * Per-position scores of one sequence, in the order of the request's positions.
 *
 * @param positions the scored positions
 * @param entropy entropy in nats of the next-token distribution at each position (float32)
 * @param logprob natural log-probability of the actual next token at each position
 */
public record ScoreResult(int[] positions, float[] entropy, float[] logprob) {

    public ScoreResult {
        if (entropy.length != positions.length || logprob.length != positions.length) {
            throw new IllegalArgumentException("positions, entropy and logprob must have the same length");
        }
    }

    /** Number of scored positions. */
    public int size() {
        return positions.length;
    }
}
