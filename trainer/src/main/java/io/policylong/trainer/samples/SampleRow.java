package io.policylong.trainer.samples;

/**
 * One pipeline sample as one training row: its tokens in order (contexts and document, with separators), never
 * split across rows.
 *
 * @param sampleId the sample's id
 * @param policyVersion the policy version that screened it
 * @param tokens the row's token ids
 * @param anchorIndices row indices of the document's anchor tokens (the tokens whose prediction the screening found
 *     hard), ascending
 * @param cut whether contexts (or, when the document alone was too long, the document's end) were left out to fit
 *     the longest row
 */
public record SampleRow(String sampleId, long policyVersion, long[] tokens, int[] anchorIndices, boolean cut) {
    public SampleRow {
        tokens = tokens.clone();
        anchorIndices = anchorIndices.clone();
    }

    /** Tokens in the row. */
    public int length() {
        return tokens.length;
    }
}
