package io.policylong.corpus;

import java.util.Set;

/**
 * Turns one tagged Brown corpus sentence ({@code The/at jury/nn said/vbd ,/, ``/`` ...}) back into plain
 * text: tags are stripped, TeX-style quotes become straight double quotes, and punctuation is attached to
 * the word before or after it as in ordinary prose.
 */
public final class BrownDetokenizer {
    private static final Set<String> ATTACH_LEFT = Set.of(".", ",", ";", ":", "?", "!", ")", "]", "}", "%", "''",
            "'", "n't", "'s", "'re", "'ve", "'ll", "'d", "'m", "...");
    private static final Set<String> ATTACH_RIGHT = Set.of("(", "[", "{", "``", "`", "$");

    private BrownDetokenizer() {
    }

    /** The plain text of a tagged sentence; empty when the line holds no tokens. */
    public static String detokenize(String taggedLine) {
        StringBuilder out = new StringBuilder();
        boolean glueNext = true;
        for (String token : taggedLine.trim().split("\\s+")) {
            if (token.isEmpty()) {
                continue;
            }
            int slash = token.lastIndexOf('/');
            String word = slash > 0 ? token.substring(0, slash) : token;
            String text = switch (word) {
                case "``", "''" -> "\"";
                case "`" -> "'";
                default -> word;
            };
            if (!glueNext && !ATTACH_LEFT.contains(word)) {
                out.append(' ');
            }
            out.append(text);
            glueNext = ATTACH_RIGHT.contains(word);
        }
        return out.toString();
    }
}
