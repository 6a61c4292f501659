package io.policylong.trainer.samples;

import io.policylong.trainer.data.PackedBatch;
import java.util.List;

/**
 * Batches of sample rows: one sample per row at its full length, shorter rows padded at the end with a piece of
 * their own that carries no targets. The prediction of each anchor token weighs {@code anchorLossWeight} in the loss
 * (1 leaves the loss as it is).
 */
public final class SampleBatches {
    private SampleBatches() {
    }

    /** The batch of these rows. */
    public static PackedBatch of(List<SampleRow> rows, double anchorLossWeight) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one row");
        }
        if (!(anchorLossWeight >= 0)) {
            throw new IllegalArgumentException("the anchor loss weight must be at least 0, not " + anchorLossWeight);
        }
        int length = rows.stream().mapToInt(SampleRow::length).max().orElseThrow();
        int n = rows.size() * length;
        long[] tokens = new long[n];
        long[] positions = new long[n];
        long[] segments = new long[n];
        float[] weights = new float[n];
        for (int r = 0; r < rows.size(); r++) {
            SampleRow row = rows.get(r);
            int start = r * length;
            for (int i = 0; i < length; i++) {
                boolean real = i < row.length();
                tokens[start + i] = real ? row.tokens()[i] : 0;
                positions[start + i] = real ? i : i - row.length();
                segments[start + i] = real ? 0 : 1;
                weights[start + i] = real ? 1 : 0;
            }
            for (int anchor : row.anchorIndices()) {
                // The anchor token is the target of the token before it.
                if (anchor >= 1 && anchor < row.length()) {
                    weights[start + anchor - 1] = (float) anchorLossWeight;
                }
            }
        }
        return new PackedBatch(rows.size(), length, tokens, positions, segments, weights);
    }
}
