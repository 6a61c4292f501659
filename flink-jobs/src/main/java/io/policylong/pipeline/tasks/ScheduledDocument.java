package io.policylong.pipeline.tasks;

import java.io.Serializable;

/**
 * What the scheduler keeps of a document: the digest of its text (to tell a duplicate from new text under the
 * same id) and the newest version it was sent to screening under (-1 before the first). The text itself is
 * kept once, by the pacer downstream.
 */
public record ScheduledDocument(String textDigest, long screenedVersion) implements Serializable {
    private static final long serialVersionUID = 1L;
}
