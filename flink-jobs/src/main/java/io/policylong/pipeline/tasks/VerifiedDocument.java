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
 * @param retryable whether trying again may succeed (a load failure, a stalled or failed scoring attempt)
 * @param distractors the retrieved chunks that were not verified, with their lengths under the policy (no gains)
 */
public record VerifiedDocument(RetrievedDocument retrieved, List<VerifiedContext> contexts, int separatorTokens,
        String failure, boolean retryable, List<VerifiedContext> distractors)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    public VerifiedDocument {
        contexts = List.copyOf(contexts);
        distractors = List.copyOf(distractors);
    }

    /** A verified document without distractors. */
    public VerifiedDocument(RetrievedDocument retrieved, List<VerifiedContext> contexts, int separatorTokens) {
        this(retrieved, contexts, separatorTokens, null, false, List.of());
    }

    /** A verified document with its distractors. */
    public VerifiedDocument(RetrievedDocument retrieved, List<VerifiedContext> contexts, int separatorTokens,
            List<VerifiedContext> distractors) {
        this(retrieved, contexts, separatorTokens, null, false, distractors);
    }

    /** A verification that failed for good. */
    public static VerifiedDocument failed(RetrievedDocument retrieved, String reason) {
        return new VerifiedDocument(retrieved, List.of(), 0, reason, false, List.of());
    }

    /** A verification that failed for a reason that may be transient. */
    public static VerifiedDocument failedTransiently(RetrievedDocument retrieved, String reason) {
        return new VerifiedDocument(retrieved, List.of(), 0, reason, true, List.of());
    }
}
