package io.policylong.evaluation;

/**
 * How a checkpoint did on one probe.
 *
 * @param task the probe's task
 * @param length the length it was built for
 * @param index its number
 * @param promptTokens tokens of its prompt
 * @param answerTokens tokens of its teacher-forced answer
 * @param logprob log-probability of the whole answer given the prompt (nats)
 * @param controlLogprob the same given the control prompt (the needle taken out)
 * @param firstTokenRank rank of the answer's first token that is not blank (the space before a number is no
 *     test) in the model's next-token distribution there (1: most likely)
 * @param output the greedy continuation, or null when not decoded
 * @param match the share of the answers found in the greedy continuation (RULER's string-match-all), NaN when not
 *     decoded
 */
public record ProbeResult(ProbeTask task, int length, int index, int promptTokens, int answerTokens, double logprob,
        double controlLogprob, int firstTokenRank, String output, double match) {
    /** Mean log-probability per answer token. */
    public double meanLogprob() {
        return logprob / answerTokens;
    }

    /** Mean log-probability per answer token under the control prompt. */
    public double controlMeanLogprob() {
        return controlLogprob / answerTokens;
    }

    /** What the context's needle is worth: log-probability per answer token with it, minus without it. */
    public double copyGain() {
        return meanLogprob() - controlMeanLogprob();
    }
}
