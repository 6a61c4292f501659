package io.policylong.pipeline.tasks;

import io.policylong.records.Document;
import java.io.Serializable;

/**
 * What the scheduler sends the pacer for one document: a document that arrived (its text, to keep, and the
 * policy to screen it under at once, if there is one yet), or, after a version advance, a ticket naming only
 * the document and the version to screen it under again.
 *
 * @param documentId the document
 * @param document the document that arrived, or null for a ticket
 * @param policy the version to screen it under, or null when there is no policy yet
 * @param rescreen true when the document was already screened under an older version (paced)
 */
public record Scheduling(String documentId, Document document, PolicyRef policy, boolean rescreen)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A document that arrived. */
    public static Scheduling arrived(Document document, PolicyRef policy) {
        return new Scheduling(document.id(), document, policy, false);
    }

    /** A stored document to screen under a new version. */
    public static Scheduling ticket(String documentId, PolicyRef policy, boolean rescreen) {
        return new Scheduling(documentId, null, policy, rescreen);
    }
}
