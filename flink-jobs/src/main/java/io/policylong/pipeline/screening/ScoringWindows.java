package io.policylong.pipeline.screening;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a long document into scoring windows of at most {@code windowTokens} tokens so that every token
 * after the first is scored exactly once with at least {@code leftContext} tokens of the document before it
 * (all of them near the start). A document that fits is one window.
 */
public final class ScoringWindows {
    /**
     * One forward pass: tokens {@code [start, end)} of the document; the entropies before tokens
     * {@code [firstScored, end)} are taken from it.
     */
    public record Window(int start, int end, int firstScored) {
    }

    private ScoringWindows() {
    }

    /** The windows of a document of {@code length} tokens. */
    public static List<Window> plan(int length, int windowTokens, int leftContext) {
        if (windowTokens <= leftContext || leftContext < 0) {
            throw new IllegalArgumentException("the window (" + windowTokens + ") must be longer than the left context ("
                    + leftContext + ")");
        }
        List<Window> windows = new ArrayList<>();
        if (length <= windowTokens) {
            windows.add(new Window(0, length, 1));
            return windows;
        }
        windows.add(new Window(0, windowTokens, 1));
        int scoredUpTo = windowTokens;
        while (scoredUpTo < length) {
            int end = Math.min(length, scoredUpTo + windowTokens - leftContext);
            int start = end - windowTokens;
            windows.add(new Window(start, end, scoredUpTo));
            scoredUpTo = end;
        }
        return windows;
    }
}
