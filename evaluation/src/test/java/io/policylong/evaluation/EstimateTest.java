package io.policylong.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Confidence intervals computed by hand. */
class EstimateTest {
    @Test
    void aMeansIntervalIsStudentsT() {
        // n = 4, mean 2.5, sample sd = sqrt(5/3); t(0.975, 3) = 3.182446.
        Estimate e = Estimate.mean(new double[] {1, 2, 3, 4});
        double half = 3.182446 * Math.sqrt(5.0 / 3) / 2;
        assertEquals(2.5, e.mean(), 1e-12);
        assertEquals(2.5 - half, e.low(), 1e-5);
        assertEquals(2.5 + half, e.high(), 1e-5);
        assertTrue(Double.isNaN(Estimate.mean(new double[] {Double.NaN}).mean()), "nothing to estimate from");
        Estimate cut = Estimate.mean(new double[] {0, 0, 0, 1}, 0, 1);
        assertEquals(0.0, cut.low(), "scores cannot fall below 0");
    }

    @Test
    void aSharesIntervalIsWilsons() {
        // 8 of 10: Wilson 95 % interval [0.4902, 0.9433].
        Estimate e = Estimate.share(8, 10);
        assertEquals(0.8, e.mean(), 1e-12);
        assertEquals(0.4902, e.low(), 1e-4);
        assertEquals(0.9433, e.high(), 1e-4);
    }
}
