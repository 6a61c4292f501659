package io.policylong.trainer.data;

/**
 * Rows of training tokens packed to a fixed length. Each row holds pieces of several documents; a token only
 * attends to earlier tokens of its own piece, positions restart at 0 for every piece, and a token's next
 * token is a training target only inside the same piece.
 *
 * @param rows number of rows
 * @param length tokens per row
 * @param tokens row-major token ids, {@code rows * length}
 * @param positions position of each token within its piece
 * @param segments piece index of each token within its row (pieces are numbered from 0 in each row)
 */
public record PackedBatch(int rows, int length, long[] tokens, long[] positions, long[] segments) {

    public PackedBatch {
        int n = rows * length;
        if (tokens.length != n || positions.length != n || segments.length != n) {
            throw new IllegalArgumentException("tokens, positions and segments must all hold rows * length values");
        }
    }

    /** Whether the token after {@code index} (row-major) is a target: same row and same piece. */
    public boolean hasTarget(int index) {
        int column = index % length;
        return column < length - 1 && segments[index + 1] == segments[index];
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
