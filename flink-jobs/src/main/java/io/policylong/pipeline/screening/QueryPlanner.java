package io.policylong.pipeline.screening;

import io.policylong.records.Anchor;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns anchors into retrieval queries: each anchor's query is the text of the tokens within
 * {@code halfWindow} of it; anchors whose windows overlap share one query spanning all of them.
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
     * The queries of a document.
     *
     * @param anchors in document order
     * @param text the document text
     * @param tokenStarts character start of every token in the text (-1 for tokens without a span)
     * @param tokenEnds character end of every token
     */
    public List<AnchorQuery> plan(List<Anchor> anchors, String text, int[] tokenStarts, int[] tokenEnds) {
        List<AnchorQuery> queries = new ArrayList<>();
        int tokens = tokenStarts.length;
        List<Anchor> group = new ArrayList<>();
        int groupStart = 0;
        int groupEnd = 0;
        for (Anchor a : anchors) {
            int start = Math.max(0, a.position() - halfWindow);
            int end = Math.min(tokens, a.position() + halfWindow + 1);
            if (!group.isEmpty() && start <= groupEnd) {
                group.add(a);
                groupEnd = Math.max(groupEnd, end);
                continue;
            }
            if (!group.isEmpty()) {
                queries.add(query(group, groupStart, groupEnd, text, tokenStarts, tokenEnds));
            }
            group = new ArrayList<>(List.of(a));
            groupStart = start;
            groupEnd = end;
        }
        if (!group.isEmpty()) {
            queries.add(query(group, groupStart, groupEnd, text, tokenStarts, tokenEnds));
        }
        return queries;
    }

    private static AnchorQuery query(List<Anchor> group, int start, int end, String text, int[] starts, int[] ends) {
        int from = -1;
        int to = -1;
        for (int t = start; t < end; t++) {
            if (starts[t] >= 0) {
                from = from < 0 ? starts[t] : Math.min(from, starts[t]);
                to = Math.max(to, ends[t]);
            }
        }
        String span = from < 0 ? "" : text.substring(from, to);
        return new AnchorQuery(group, start, end, span);
    }
}
