package io.policylong.pipeline.screening;

import io.policylong.records.Anchor;
import java.io.Serializable;
import java.util.List;

/**
 * One retrieval query: the document tokens {@code [tokenStart, tokenEnd)} around one or more anchors whose
 * query windows overlap, and the text they span.
 */
public record AnchorQuery(List<Anchor> anchors, int tokenStart, int tokenEnd, String text) implements Serializable {
    private static final long serialVersionUID = 1L;

    public AnchorQuery {
        anchors = List.copyOf(anchors);
    }
}
