package io.policylong.evaluation;

import java.util.List;

/**
 * One long-context probe: a context holding what the answer needs, a question, the answers, and the control (the same
 * context with the needle taken out, so the answer cannot be copied from it).
 *
 * @param task the kind of probe
 * @param length the length in tokens the prompt was built for (it is at most this long)
 * @param index the probe's number within its task and length (with the seed, it fixes the probe)
 * @param context the context
 * @param control the context without what the answer needs
 * @param question what follows the context; the answer continues it
 * @param answers what a correct continuation contains, in the order the teacher-forced answer gives them
 */
public record Probe(ProbeTask task, int length, int index, String context, String control, String question,
        List<String> answers) {
    public Probe {
        answers = List.copyOf(answers);
        if (answers.isEmpty()) {
            throw new IllegalArgumentException("a probe needs an answer");
        }
    }

    /** The prompt: context, then question. */
    public String prompt() {
        return context + question;
    }

    /** The control prompt: the context without the needle, then the same question. */
    public String controlPrompt() {
        return control + question;
    }

    /** The answer as the teacher-forced continuation: a space, then the answers separated by ", ". */
    public String target() {
        return " " + String.join(", ", answers);
    }
}
