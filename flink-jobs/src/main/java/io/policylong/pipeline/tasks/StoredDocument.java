package io.policylong.pipeline.tasks;

import io.policylong.records.Document;
import java.io.Serializable;

/**
 * A document in the scheduler's keyed state, with the newest version it was sent to screening under
 * (-1 before the first).
 */
public record StoredDocument(Document document, long screenedVersion) implements Serializable {
    private static final long serialVersionUID = 1L;
}
