package io.policylong.pipeline.tasks;

import io.policylong.records.Document;
import java.io.Serializable;

/**
 * A document to screen under a policy version.
 *
 * @param document the document
 * @param policy the version to screen it under
 * @param rescreen true when the document was already screened under an older version (such tasks are paced)
 */
public record ScreeningTask(Document document, PolicyRef policy, boolean rescreen) implements Serializable {
    private static final long serialVersionUID = 1L;
}
