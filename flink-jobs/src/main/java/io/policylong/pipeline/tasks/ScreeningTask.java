package io.policylong.pipeline.tasks;

import io.policylong.records.Document;
import java.io.Serializable;

/**
 * A document to screen under a policy version.
 *
 * @param document the document, or a piece of one (a document longer than a sample's share is screened in
 *     pieces)
 * @param policy the version to screen it under
 * @param rescreen true when the document was already screened under an older version (such tasks are paced)
 * @param parentId the id of the stored document a piece was cut from, or null for a whole document
 */
public record ScreeningTask(Document document, PolicyRef policy, boolean rescreen, String parentId)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A whole document. */
    public ScreeningTask(Document document, PolicyRef policy, boolean rescreen) {
        this(document, policy, rescreen, null);
    }

    /** The id of the stored document (the parent of a piece): retrieval never returns its chunks. */
    public String storedId() {
        return parentId != null ? parentId : document.id();
    }

    /** A piece of this task's document, screened as its own document. */
    public ScreeningTask piece(Document piece) {
        return new ScreeningTask(piece, policy, rescreen, storedId());
    }
}
