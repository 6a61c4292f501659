package io.policylong.pipeline.screening;

import io.policylong.records.Anchor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Picks the anchors of a document from its per-token entropies: the positions whose entropy exceeds
 * {@code mean + alpha * std} of that document, ignoring the first {@code skipFirst} tokens (which have too
 * little context to be meaningful), keeping the strongest {@code maxAnchors}, returned in document order.
 */
public final class AnchorSelector {
    private final double alpha;
    private final int maxAnchors;
    private final int skipFirst;

    public AnchorSelector(double alpha, int maxAnchors, int skipFirst) {
        if (maxAnchors < 0 || skipFirst < 1) {
            throw new IllegalArgumentException("maxAnchors must be >= 0 and skipFirst >= 1");
        }
        this.alpha = alpha;
        this.maxAnchors = maxAnchors;
        this.skipFirst = skipFirst;
    }

    /** The threshold above which a position is an anchor, over the considered positions; NaN if none. */
    public double threshold(float[] entropyBefore) {
        int n = 0;
        double sum = 0;
        double sumSquares = 0;
        for (int t = skipFirst; t < entropyBefore.length; t++) {
            float h = entropyBefore[t];
            if (Float.isNaN(h)) {
                continue;
            }
            n++;
            sum += h;
            sumSquares += (double) h * h;
        }
        if (n < 2) {
            return Double.NaN;
        }
        double mean = sum / n;
        double variance = Math.max(0, sumSquares / n - mean * mean);
        return mean + alpha * Math.sqrt(variance);
    }

    /**
     * The anchors of a document.
     *
     * @param entropyBefore entropy of the distribution of token t given tokens 0..t-1, at index t (index 0
     *     is ignored)
     * @param windowStarts scoring window start of each position (same length), or null for a single window
     */
    public List<Anchor> select(float[] entropyBefore, int[] windowStarts) {
        double threshold = threshold(entropyBefore);
        List<Anchor> anchors = new ArrayList<>();
        if (Double.isNaN(threshold) || maxAnchors == 0) {
            return anchors;
        }
        for (int t = skipFirst; t < entropyBefore.length; t++) {
            if (entropyBefore[t] > threshold) {
                anchors.add(new Anchor(t, entropyBefore[t], windowStarts == null ? 0 : windowStarts[t]));
            }
        }
        anchors.sort(Comparator.comparingDouble(Anchor::entropy).reversed().thenComparingInt(Anchor::position));
        List<Anchor> kept = new ArrayList<>(anchors.subList(0, Math.min(maxAnchors, anchors.size())));
        kept.sort(Comparator.comparingInt(Anchor::position));
        return kept;
    }
}
