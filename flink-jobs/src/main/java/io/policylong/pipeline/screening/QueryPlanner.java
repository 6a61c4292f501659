package io.policylong.pipeline.screening;

import io.policylong.records.Anchor;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns anchors into retrieval queries: each anchor's query is the text of the tokens within
 * {@code halfWindow} of it. Every anchor has its own query, even when the windows of nearby anchors overlap, so
 * that each gets its own ranked results (see {@link CandidateSelection}).
 */
public final class QueryPlanner {
    private final int halfWindow;

    public QueryPlanner(int halfWindow) {
        if (halfWindow < 1) {
            throw new IllegalArgumentException("the half window must be at least 1 token");
        }
        this.halfWindow = halfWindow;
    }

    /**
     * The queries of a document, one per anchor, in the anchors' order.
     *
     * @param anchors the anchors
     * @param text the document text
     * @param tokenStarts character start of every token in the text (-1 for tokens without a span)
     * @param tokenEnds character end of every token
     */
    public List<AnchorQuery> plan(List<Anchor> anchors, String text, int[] tokenStarts, int[] tokenEnds) {
        List<AnchorQuery> queries = new ArrayList<>();
        int tokens = tokenStarts.length;
        for (Anchor a : anchors) {
            int start = Math.max(0, a.position() - halfWindow);
            int end = Math.min(tokens, a.position() + halfWindow + 1);
            queries.add(query(a, start, end, text, tokenStarts, tokenEnds));
        }
        return queries;
    }

    private static AnchorQuery query(Anchor anchor, int start, int end, String text, int[] starts, int[] ends) {
        int from = -1;
        int to = -1;
        for (int t = start; t < end; t++) {
            if (starts[t] >= 0) {
                from = from < 0 ? starts[t] : Math.min(from, starts[t]);
                to = Math.max(to, ends[t]);
            }
        }
        String span = from < 0 ? "" : text.substring(from, to);
        return new AnchorQuery(anchor, start, end, span);
    }
}
