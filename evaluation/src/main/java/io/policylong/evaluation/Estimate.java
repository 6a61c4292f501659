package io.policylong.evaluation;

import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.interval.WilsonScoreInterval;

/**
 * A mean with its 95 % confidence interval: Student's t for means of measurements, Wilson's score interval for
 * shares of successes. NaN throughout when there is nothing to estimate from.
 *
 * @param mean the estimate
 * @param low the interval's lower end
 * @param high its upper end
 */
public record Estimate(double mean, double low, double high) {
    private static final Estimate NONE = new Estimate(Double.NaN, Double.NaN, Double.NaN);

    /** The mean of the finite values with a t interval (one value: no interval). */
    public static Estimate mean(double[] values) {
        double sum = 0;
        int n = 0;
        for (double v : values) {
            if (Double.isFinite(v)) {
                sum += v;
                n++;
            }
        }
        if (n == 0) {
            return NONE;
        }
        double mean = sum / n;
        if (n == 1) {
            return new Estimate(mean, Double.NaN, Double.NaN);
        }
        double squares = 0;
        for (double v : values) {
            if (Double.isFinite(v)) {
                squares += (v - mean) * (v - mean);
            }
        }
        double half = new TDistribution(n - 1).inverseCumulativeProbability(0.975) * Math.sqrt(squares / (n - 1) / n);
        return new Estimate(mean, mean - half, mean + half);
    }

    /** As {@link #mean(double[])}, the interval cut to the range the values can take. */
    public static Estimate mean(double[] values, double min, double max) {
        Estimate e = mean(values);
        return new Estimate(e.mean, Double.isNaN(e.low) ? e.low : Math.max(min, e.low),
                Double.isNaN(e.high) ? e.high : Math.min(max, e.high));
    }

    /** The share of successes with Wilson's interval. */
    public static Estimate share(int successes, int trials) {
        if (trials == 0) {
            return NONE;
        }
        var interval = new WilsonScoreInterval().createInterval(trials, successes, 0.95);
        return new Estimate((double) successes / trials, interval.getLowerBound(), interval.getUpperBound());
    }
}
