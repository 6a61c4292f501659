package io.policylong.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PositionalHeadBiasesTest {
    private static final int HEAD_DIM = 64;

    private static double[] inverseFrequencies(double base) {
        double[] inv = new double[HEAD_DIM / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = Math.pow(base, -2.0 * i / HEAD_DIM);
        }
        return inv;
    }

    /** Rotary embedding written out here, pairs (i, i + half): x*cos + rotateHalf(x)*sin. */
    private static double[] rotate(float[] x, double[] inv, int position) {
        int half = inv.length;
        double[] out = new double[x.length];
        for (int i = 0; i < half; i++) {
            double c = Math.cos(position * inv[i]);
            double s = Math.sin(position * inv[i]);
            out[i] = x[i] * c - x[half + i] * s;
            out[half + i] = x[half + i] * c + x[i] * s;
        }
        return out;
    }

    @Test
    void theHeadAttendsExactlyItsOffsetBackAtAnyPosition() {
        assertSharpPeaks(10_000, 8);
        assertSharpPeaks(1e8, 5);
    }

    private static void assertSharpPeaks(double base, double margin) {
        double[] inv = inverseFrequencies(base);
        float[] key = PositionalHeadBiases.key(HEAD_DIM, InductionCircuitSeed.POSITIONAL_STRENGTH);
        for (int offset : new int[] {1, 2, 3}) {
            float[] query = PositionalHeadBiases.query(inv, offset, InductionCircuitSeed.POSITIONAL_STRENGTH);
            for (int position : new int[] {offset, 17, 1000, 4095}) {
                double[] q = rotate(query, inv, position);
                double best = Double.NEGATIVE_INFINITY;
                double runnerUp = Double.NEGATIVE_INFINITY;
                int argmax = -1;
                for (int k = 0; k <= position; k++) {
                    double[] kk = rotate(key, inv, k);
                    double score = 0;
                    for (int d = 0; d < HEAD_DIM; d++) {
                        score += q[d] * kk[d];
                    }
                    score /= Math.sqrt(HEAD_DIM);
                    if (score > best) {
                        runnerUp = best;
                        best = score;
                        argmax = k;
                    } else {
                        runnerUp = Math.max(runnerUp, score);
                    }
                }
                assertEquals(position - offset, argmax, "offset " + offset + " at position " + position);
                assertTrue(best - runnerUp > margin, "a sharp peak (" + (best - runnerUp) + " nats) for offset "
                        + offset + " at position " + position + ", base " + base);
            }
        }
    }

    @Test
    void anOffsetMustLookBack() {
        assertThrows(IllegalArgumentException.class, () -> PositionalHeadBiases.query(inverseFrequencies(1e4), 0, 1));
    }
}
