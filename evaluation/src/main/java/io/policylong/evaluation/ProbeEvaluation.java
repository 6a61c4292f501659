package io.policylong.evaluation;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One evaluation run: the probes of each task at each length, generated and scored cell by cell, with a line of
 * progress per cell.
 */
public final class ProbeEvaluation {
    private ProbeEvaluation() {
    }

    /**
     * @param checkpoint what the report names as evaluated
     * @param progress receives one line per task and length
     */
    public static EvalReport run(String checkpoint, ProbeGenerator generator, ProbeScorer scorer, List<ProbeTask> tasks,
            List<Integer> lengths, int probes, long seed, Consumer<String> progress) {
        List<ProbeResult> results = new ArrayList<>();
        for (ProbeTask task : tasks) {
            for (int length : lengths) {
                long start = System.nanoTime();
                List<ProbeResult> scored = scorer.score(generator.generate(task, length, probes));
                results.addAll(scored);
                TaskSummary s = TaskSummary.of(scored).get(0);
                progress.accept(String.format(java.util.Locale.ROOT, "%s at %d: logprob/token %.3f (control %.3f), "
                        + "top-1 %.2f%s in %.0f s", task.label(), length, s.meanLogprob().mean(),
                        s.controlMeanLogprob().mean(), s.topRank().mean(), Double.isNaN(s.match().mean()) ? ""
                                : String.format(java.util.Locale.ROOT, ", match %.2f", s.match().mean()),
                        (System.nanoTime() - start) / 1e9));
            }
        }
        return new EvalReport(checkpoint, seed, probes, TaskSummary.of(results), results);
    }
}
