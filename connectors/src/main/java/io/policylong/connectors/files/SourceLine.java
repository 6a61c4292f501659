package io.policylong.connectors.files;

import java.io.Serializable;

/**
 * One line of an input file: its text, or the problem that kept it from being text.
 *
 * @param origin {@code <file>:<line number>}
 * @param text the line (without its terminator), or null when {@code problem} is set
 * @param problem why the line cannot be used (invalid UTF-8, too long), or null
 */
public record SourceLine(String origin, String text, String problem) implements Serializable {
    private static final long serialVersionUID = 1L;
}
