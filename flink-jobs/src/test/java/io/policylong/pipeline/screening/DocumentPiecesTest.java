package io.policylong.pipeline.screening;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A long document in pieces of at most so many tokens, cut at token boundaries, covering all of it. */
class DocumentPiecesTest {
    @Test
    void piecesCoverTheTextInOrderAtTokenBoundaries() {
        String text = "aaa bbb ccc ddd eee fff ggg";
        int[] starts = {0, 4, 8, 12, 16, 20, 24};
        List<int[]> ranges = DocumentPieces.ranges(text.length(), starts, 3);
        assertEquals(3, ranges.size());
        assertArrayEquals(new int[] {0, 12}, ranges.get(0));
        assertArrayEquals(new int[] {12, 24}, ranges.get(1));
        assertArrayEquals(new int[] {24, text.length()}, ranges.get(2));
        assertEquals("ddd eee fff ", text.substring(12, 24));
        assertEquals(List.of(new int[] {0, text.length()}).get(0)[1],
                DocumentPieces.ranges(text.length(), starts, 7).get(0)[1], "short enough: one piece");
    }

    @Test
    void tokensWithoutASpanAreSkippedWhenCutting() {
        int[] starts = {0, 2, -1, 6, 8};
        List<int[]> ranges = DocumentPieces.ranges(10, starts, 2);
        assertArrayEquals(new int[] {0, 6}, ranges.get(0), "the cut moves to the next token with a span");
        assertArrayEquals(new int[] {6, 8}, ranges.get(1));
        assertArrayEquals(new int[] {8, 10}, ranges.get(2));
    }
}
