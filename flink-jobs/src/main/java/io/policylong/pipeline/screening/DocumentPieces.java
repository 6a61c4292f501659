package io.policylong.pipeline.screening;

import java.util.ArrayList;
import java.util.List;

/**
 * Where a document longer than a sample's share is cut: into consecutive pieces of at most {@code pieceTokens}
 * tokens, at token boundaries, each piece screened as its own document (as the papers cut long documents to
 * the target length).
 */
public final class DocumentPieces {
    private DocumentPieces() {
    }

    /**
     * The character ranges {@code [start, end)} of the pieces, covering the whole text in order (one range when
     * the document is short enough).
     *
     * @param tokenStarts character start of every token (-1 for tokens without a span)
     */
    public static List<int[]> ranges(int textLength, int[] tokenStarts, int pieceTokens) {
        if (pieceTokens < 1) {
            throw new IllegalArgumentException("pieces must hold at least one token");
        }
        List<int[]> ranges = new ArrayList<>();
        int from = 0;
        for (int t = pieceTokens; t < tokenStarts.length; t += pieceTokens) {
            int cut = -1;
            // The first token of the next piece that has a span (special tokens have none).
            for (int u = t; u < tokenStarts.length && cut < 0; u++) {
                cut = tokenStarts[u];
            }
            if (cut > from) {
                ranges.add(new int[] {from, cut});
                from = cut;
            }
        }
        ranges.add(new int[] {from, textLength});
        return ranges;
    }
}
