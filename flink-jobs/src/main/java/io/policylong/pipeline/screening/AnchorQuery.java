package io.policylong.pipeline.screening;

import io.policylong.records.Anchor;
import java.io.Serializable;

/**
 * One anchor's retrieval query: the document tokens {@code [tokenStart, tokenEnd)} around it, and the text they
 * span.
 */
public record AnchorQuery(Anchor anchor, int tokenStart, int tokenEnd, String text) implements Serializable {
    private static final long serialVersionUID = 1L;
}
