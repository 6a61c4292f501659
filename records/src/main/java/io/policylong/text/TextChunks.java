package io.policylong.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a text into chunks of about {@code targetChars} characters: paragraphs (split on newlines)
 * are grouped while they fit; a paragraph too long on its own is cut at sentence ends, and a sentence too
 * long on its own at the last space before the limit. The chunks concatenate back to the text exactly.
 */
public final class TextChunks {
    private TextChunks() {
    }

    /** Character ranges {@code [start, end)} of the chunks, covering the text in order. */
    public static List<int[]> split(String text, int targetChars) {
        if (targetChars < 1) {
            throw new IllegalArgumentException("targetChars must be positive");
        }
        List<int[]> pieces = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int newline = text.indexOf('\n', start);
            int end = newline < 0 ? text.length() : newline + 1;
            addPiece(text, start, end, targetChars, pieces);
            start = end;
        }
        List<int[]> chunks = new ArrayList<>();
        int[] current = null;
        for (int[] p : pieces) {
            if (current != null && p[1] - current[0] <= targetChars) {
                current[1] = p[1];
            } else {
                current = new int[] {p[0], p[1]};
                chunks.add(current);
            }
        }
        return chunks;
    }

    /** Adds a paragraph, cut into sentence (or space-delimited) pieces no longer than the target. */
    private static void addPiece(String text, int start, int end, int target, List<int[]> pieces) {
        int from = start;
        while (end - from > target) {
            int limit = from + target;
            int cut = -1;
            for (int i = limit - 1; i > from; i--) {
                char c = text.charAt(i);
                if (c == ' ' && i > from + 1 && ".!?".indexOf(text.charAt(i - 1)) >= 0) {
                    cut = i + 1;
                    break;
                }
            }
            if (cut < 0) {
                int space = text.lastIndexOf(' ', limit - 1);
                cut = space > from ? space + 1 : limit;
            }
            pieces.add(new int[] {from, cut});
            from = cut;
        }
        if (end > from) {
            pieces.add(new int[] {from, end});
        }
    }
}
