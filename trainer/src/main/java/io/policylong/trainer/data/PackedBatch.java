package io.policylong.trainer.data;

/**
 * Rows of training tokens, all of one length. A row holds one or more pieces; a token only attends to earlier
 * tokens of its own piece, positions restart at 0 for every piece, and a token's next token is a training target
 * only inside the same piece. Each target may carry a weight in the loss (1 when none is given; 0 leaves it out,
 * as for the padding at the end of a shorter row).
 *
 * @param rows number of rows
 * @param length tokens per row
 * @param tokens row-major token ids, {@code rows * length}
 * @param positions position of each token within its piece
 * @param segments piece index of each token within its row (pieces are numbered from 0 in each row)
 * @param weights the loss weight of the target after each token, or null for 1 everywhere
 */
public record PackedBatch(int rows, int length, long[] tokens, long[] positions, long[] segments, float[] weights) {

    public PackedBatch {
        int n = rows * length;
        if (tokens.length != n || positions.length != n || segments.length != n
                || (weights != null && weights.length != n)) {
            throw new IllegalArgumentException("tokens, positions, segments (and weights) must all hold rows * length "
                    + "values");
        }
    }

    /** A batch whose every target weighs 1. */
    public PackedBatch(int rows, int length, long[] tokens, long[] positions, long[] segments) {
        this(rows, length, tokens, positions, segments, null);
    }

    /** Whether the token after {@code index} (row-major) is a target: same row, same piece, weight not 0. */
    public boolean hasTarget(int index) {
        return targetWeight(index) != 0;
    }

    /** The loss weight of the target after {@code index} (0 when it is no target). */
    public float targetWeight(int index) {
        int column = index % length;
        if (column >= length - 1 || segments[index + 1] != segments[index]) {
            return 0;
        }
        return weights == null ? 1 : weights[index];
    }

    /** Number of target tokens in the batch. */
    public int targetCount() {
        int count = 0;
        for (int i = 0; i < tokens.length; i++) {
            if (hasTarget(i)) {
                count++;
            }
        }
        return count;
    }
}
