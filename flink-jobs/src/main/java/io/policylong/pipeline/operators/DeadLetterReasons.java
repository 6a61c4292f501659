package io.policylong.pipeline.operators;

import java.util.List;
import java.util.Locale;

/**
 * Sorts dead-letter reasons into a few categories for the metrics (the full reason stays in the dead letter):
 * {@code invalid-json}, {@code invalid-utf8}, {@code missing-field}, {@code too-large}, {@code too-short},
 * {@code stale-version}, {@code bad-checkpoint}, {@code load-failed}, {@code timeout}, {@code other}.
 */
public final class DeadLetterReasons {
    private record Rule(String category, List<String> markers) {
    }

    // First match wins; the markers are the wording of this project's own rejections.
    private static final List<Rule> RULES = List.of(
            new Rule("stale-version", List.of("not newer than")),
            new Rule("bad-checkpoint", List.of("checkpoint rejected", "sha256", "does not exist")),
            new Rule("load-failed", List.of("could not be loaded")),
            new Rule("timeout", List.of("timed out")),
            new Rule("invalid-utf8", List.of("utf-8")),
            new Rule("invalid-json", List.of("not valid json", "not a json object")),
            new Rule("too-large", List.of("more than the limit", "larger than")),
            new Rule("too-short", List.of("fewer than 2 tokens")),
            new Rule("missing-field", List.of(" has no ", "empty text", "missing", "is required")));

    private DeadLetterReasons() {
    }

    /** The category of a reason. */
    public static String category(String reason) {
        if (reason == null) {
            return "other";
        }
        String r = reason.toLowerCase(Locale.ROOT);
        for (Rule rule : RULES) {
            for (String marker : rule.markers()) {
                if (r.contains(marker)) {
                    return rule.category();
                }
            }
        }
        return "other";
    }
}
