package io.policylong.model.tokenizer;

/**
 * Token ids of a text with each token's character span in that text.
 *
 * @param ids token ids
 * @param starts start of each token as a Java string index (UTF-16 units), -1 for tokens with no span
 *     (special tokens added by the tokenizer)
 * @param ends end (exclusive) of each token, -1 where {@code starts} is -1
 */
public record TokenizedText(long[] ids, int[] starts, int[] ends) {

    public TokenizedText {
        if (starts.length != ids.length || ends.length != ids.length) {
            throw new IllegalArgumentException("ids, starts and ends must have the same length");
        }
    }

    /** Number of tokens. */
    public int size() {
        return ids.length;
    }
}
