package io.policylong.trainer.model;

/**
 * Query and key biases that make an attention head look a fixed number of tokens back, whatever the tokens
 * are. With its projection weights at zero, a head's query and key are just its biases; rotary positions then
 * turn their dot product into a function of the distance alone,
 * {@code strength^2 * sum_i cos((distance - offset) * theta_i)}, which is largest at {@code offset}.
 *
 * <p>Seeded into the first layer of a fresh model, such heads hand every position the tokens just before it:
 * the features that in-context copying is built from (see {@link InductionCircuitSeed}).
 */
public final class PositionalHeadBiases {
    private PositionalHeadBiases() {
    }

    /** Key bias: every rotary pair's first component at {@code strength}, the second at 0. */
    public static float[] key(int headDim, double strength) {
        float[] bias = new float[headDim];
        for (int i = 0; i < headDim / 2; i++) {
            bias[i] = (float) strength;
        }
        return bias;
    }

    /**
     * Query bias for a head that attends {@code offset} tokens back: each rotary pair of the key turned back by
     * {@code offset} positions, so that the rotation between a query and a key that far back cancels it.
     * Layout as in the rotary embedding: the pairs are (i, i + headDim / 2).
     */
    public static float[] query(double[] inverseFrequencies, int offset, double strength) {
        if (offset < 1) {
            throw new IllegalArgumentException("the offset must be at least 1 token back");
        }
        int half = inverseFrequencies.length;
        float[] bias = new float[2 * half];
        for (int i = 0; i < half; i++) {
            double angle = offset * inverseFrequencies[i];
            bias[i] = (float) (strength * Math.cos(angle));
            bias[half + i] = (float) (-strength * Math.sin(angle));
        }
        return bias;
    }
}
