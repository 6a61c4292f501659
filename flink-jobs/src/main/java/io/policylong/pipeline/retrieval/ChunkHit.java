package io.policylong.pipeline.retrieval;

import java.io.Serializable;

/**
 * A retrieved chunk.
 *
 * @param chunkId document id and ordinal, {@code <doc id>#<n>}
 * @param documentId the corpus document it belongs to
 * @param text its text
 * @param tokens its length in tokens (counted with the tokenizer given when the index was built)
 * @param score BM25 score
 */
public record ChunkHit(String chunkId, String documentId, String text, int tokens, float score)
        implements Serializable {
    private static final long serialVersionUID = 1L;
}
