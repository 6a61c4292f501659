package io.policylong.evaluation;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.policylong.report.ReportFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * One trained (or the base) checkpoint of an experiment, evaluated: the arm, the seed, the tokens it was trained on,
 * its held-out loss and, per task and length ({@code task@length}), the mean answer log-probability per token and
 * the mean copy gain of the probes.
 *
 * @param arm the arm ({@code base} for the checkpoint every arm starts from)
 * @param seed the trainer's seed (0 for the base)
 * @param tokens tokens trained on
 * @param heldOutLoss nats per token on the held-out text
 * @param logprob per task and length
 * @param copyGain per task and length
 * @param seconds how long training and evaluation took
 */
public record ArmRun(String arm, long seed, long tokens, double heldOutLoss, Map<String, Double> logprob,
        Map<String, Double> copyGain, double seconds) {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public ArmRun {
        logprob = new TreeMap<>(logprob);
        copyGain = new TreeMap<>(copyGain);
    }

    /** The run of an evaluated checkpoint. */
    public static ArmRun of(String arm, long seed, long tokens, double heldOutLoss, EvalReport eval, double seconds) {
        Map<String, Double> logprob = new TreeMap<>();
        Map<String, Double> gain = new TreeMap<>();
        for (TaskSummary s : eval.summaries()) {
            logprob.put(key(s.task(), s.length()), s.meanLogprob().mean());
            gain.put(key(s.task(), s.length()), s.copyGain().mean());
        }
        return new ArmRun(arm, seed, tokens, heldOutLoss, logprob, gain, seconds);
    }

    /** The same run, timed. */
    public ArmRun withSeconds(double took) {
        return new ArmRun(arm, seed, tokens, heldOutLoss, logprob, copyGain, took);
    }

    /** The key of a task and length. */
    public static String key(ProbeTask task, int length) {
        return task.label() + "@" + length;
    }

    /** Writes it (atomically: a step is done once its file is there). */
    public void write(Path file) throws IOException {
        ReportFiles.writeAtomically(file, ReportFiles.json(this));
    }

    /** Reads what {@link #write} wrote. */
    public static ArmRun read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), ArmRun.class);
    }
}
