package io.policylong.evaluation;

import java.util.Locale;

/**
 * The kinds of long-context probe, after RULER: needles in a haystack (one, one among distractor needles, all values
 * of one key, several keys at once), variable tracking through chains of assignments, frequent-word extraction, and
 * key-value retrieval from a JSON-like table.
 */
public enum ProbeTask {
    NIAH_SINGLE, NIAH_MULTIKEY, NIAH_MULTIVALUE, NIAH_MULTIQUERY, VARIABLE_TRACKING, FREQUENT_WORDS, KV_RETRIEVAL;

    /** The name on the command line and in reports ({@code niah_single}, ...). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The tasks of labels; {@code all} alone means every task. */
    public static java.util.List<ProbeTask> of(java.util.List<String> labels) {
        if (labels.size() == 1 && labels.get(0).strip().equals("all")) {
            return java.util.List.of(values());
        }
        return labels.stream().map(ProbeTask::of).toList();
    }

    /** The task of a label. */
    public static ProbeTask of(String label) {
        for (ProbeTask t : values()) {
            if (t.label().equals(label.strip().toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown probe task '" + label + "' (one of "
                + String.join(", ", java.util.Arrays.stream(values()).map(ProbeTask::label).toList()) + ")");
    }
}
