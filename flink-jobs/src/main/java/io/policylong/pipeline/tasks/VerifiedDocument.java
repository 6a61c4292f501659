package io.policylong.pipeline.tasks;

import io.policylong.pipeline.screening.VerifiedContext;
import java.io.Serializable;
import java.util.List;

/**
 * A document whose candidates have been verified under the policy.
 *
 * @param retrieved the document, anchors and candidates
 * @param contexts each candidate with its gains (empty when verification failed)
 * @param separatorTokens length of the sample separator under the document's policy, in tokens
 * @param failure why verification failed, or null
 */
public record VerifiedDocument(RetrievedDocument retrieved, List<VerifiedContext> contexts, int separatorTokens,
        String failure)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    public VerifiedDocument {
        contexts = List.copyOf(contexts);
    }

    /** A verification that failed. */
    public static VerifiedDocument failed(RetrievedDocument retrieved, String reason) {
        return new VerifiedDocument(retrieved, List.of(), 0, reason);
    }
}
