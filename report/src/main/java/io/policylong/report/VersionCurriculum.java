package io.policylong.report;

/**
 * What the job found under one policy version, from its samples, and how it differs from the version before
 * (on the documents sampled under both).
 *
 * @param version the policy version
 * @param samples samples written under it
 * @param documents distinct documents (or pieces) sampled
 * @param anchorsPerDocument mean anchors per document (its last sample under this version)
 * @param anchorMeanEntropy mean entropy of the anchors (nats), NaN without anchors
 * @param positivesPerDocument mean positive contexts per document
 * @param hardNegativesPerDocument mean hard negative contexts per document
 * @param positiveGain dI of positives (each context's best gain over its anchors)
 * @param hardNegativeGain dI of hard negatives (each context's best gain)
 * @param comparedDocuments documents sampled under this version and the one before; the shares below are over
 *     them (NaN when none, or for the first version)
 * @param positivesNoLongerPositive share of the previous version's positives (document, context chunk) that are not
 *     positives now
 * @param hardNegativesNowPositive share of the previous version's hard negatives that are positives now
 * @param anchorsLearned share of the previous version's anchors (document, position) that are no anchors now
 * @param anchorsNew share of this version's anchors that were no anchors before
 */
public record VersionCurriculum(long version, int samples, int documents, double anchorsPerDocument,
        double anchorMeanEntropy, double positivesPerDocument, double hardNegativesPerDocument,
        Distribution positiveGain, Distribution hardNegativeGain, int comparedDocuments,
        double positivesNoLongerPositive, double hardNegativesNowPositive, double anchorsLearned, double anchorsNew) {
}
