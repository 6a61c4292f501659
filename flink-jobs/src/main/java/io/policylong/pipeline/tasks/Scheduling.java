package io.policylong.pipeline.tasks;

import io.policylong.records.Document;
import java.io.Serializable;

/**
 * What the pacer receives for one document: from the scheduler, a document that arrived (its text, to keep,
 * and the policy to screen it under at once, if there is one yet) or, after a version advance, a ticket naming
 * only the document and the version to screen it under again; from the job's own dead letters, a screening
 * that failed for good and may succeed on another try.
 *
 * @param documentId the document
 * @param document the document that arrived, or null for a ticket
 * @param policy the version to screen it under, or null when there is no policy yet
 * @param rescreen true when the document was already screened under an older version (paced)
 * @param retryOf for a screening that failed for good, the version it failed under (it is screened again,
 *     paced and bounded, when that is still the version it was last sent under); null otherwise
 */
public record Scheduling(String documentId, Document document, PolicyRef policy, boolean rescreen, Long retryOf)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A document that arrived. */
    public static Scheduling arrived(Document document, PolicyRef policy) {
        return new Scheduling(document.id(), document, policy, false, null);
    }

    /** A stored document to screen under a new version. */
    public static Scheduling ticket(String documentId, PolicyRef policy, boolean rescreen) {
        return new Scheduling(documentId, null, policy, rescreen, null);
    }

    /** A stored document whose screening under {@code version} failed for good, to screen again. */
    public static Scheduling retry(String documentId, long version) {
        return new Scheduling(documentId, null, null, true, version);
    }
}
