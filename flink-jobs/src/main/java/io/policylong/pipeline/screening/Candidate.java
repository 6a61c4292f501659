package io.policylong.pipeline.screening;

import io.policylong.records.Anchor;
import java.io.Serializable;
import java.util.List;

/**
 * A retrieved chunk of the fixed corpus that may help the document at some anchors.
 *
 * @param chunkId chunk id (source document id and ordinal)
 * @param sourceDocumentId the corpus document the chunk comes from
 * @param text chunk text
 * @param score best retrieval score over the queries that found it
 * @param anchors the anchors whose queries retrieved it, in document order
 */
public record Candidate(String chunkId, String sourceDocumentId, String text, float score, List<Anchor> anchors)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    public Candidate {
        anchors = List.copyOf(anchors);
    }
}
