package io.policylong.report;

import java.util.Arrays;
import java.util.Collection;

/**
 * A few numbers that describe a distribution of values (dI of positives, say): how many, mean and quantiles.
 * Quantiles are the nearest-rank values of the sorted sample; NaN when there are no values.
 */
public record Distribution(int count, double mean, double p10, double p50, double p90) {
    /** The distribution of these values. */
    public static Distribution of(Collection<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) {
            return new Distribution(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        return new Distribution(v.length, Arrays.stream(v).average().orElseThrow(), rank(v, 0.1), rank(v, 0.5),
                rank(v, 0.9));
    }

    /** The nearest-rank quantile of sorted values. */
    static double rank(double[] sorted, double q) {
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
