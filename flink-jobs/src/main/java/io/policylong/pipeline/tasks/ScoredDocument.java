package io.policylong.pipeline.tasks;

import java.io.Serializable;

/**
 * A document with the policy's entropy at every token.
 *
 * @param task what was screened
 * @param tokens token ids (the document tokenized on its own, no special tokens)
 * @param tokenStarts character start of each token in the text (-1 for none)
 * @param tokenEnds character end of each token
 * @param entropyBefore entropy of the distribution of token t given the tokens before it (in its scoring
 *     window), at index t; index 0 is NaN
 * @param windowStarts first token of the scoring window each entropy was computed in
 * @param failure why scoring failed, or null
 * @param retryable whether trying again may succeed (a load or engine failure, not an invalid document)
 */
public record ScoredDocument(ScreeningTask task, long[] tokens, int[] tokenStarts, int[] tokenEnds,
        float[] entropyBefore, int[] windowStarts, String failure, boolean retryable) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A scoring that failed for a reason that will not go away. */
    public static ScoredDocument failed(ScreeningTask task, String reason) {
        return new ScoredDocument(task, null, null, null, null, null, reason, false);
    }

    /** A scoring that failed for a reason that may be transient. */
    public static ScoredDocument failedTransiently(ScreeningTask task, String reason) {
        return new ScoredDocument(task, null, null, null, null, null, reason, true);
    }
}
