package io.policylong.evaluation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a checkpoint did on one task at one length, over its probes: the teacher-forced log-probability per answer
 * token with and without the needle and their difference (what the context is worth), the share of probes whose
 * answer starts with the model's most likely token, and the greedy answers' string-match-all score.
 *
 * @param task the task
 * @param length the length in tokens
 * @param probes probes scored
 * @param meanLogprob log-probability per answer token
 * @param controlMeanLogprob the same without the needle
 * @param copyGain the difference, probe by probe
 * @param topRank the share of probes whose answer's first (non-blank) token ranks first
 * @param match string-match-all of the greedy answers (NaN when not decoded)
 */
public record TaskSummary(ProbeTask task, int length, int probes, Estimate meanLogprob, Estimate controlMeanLogprob,
        Estimate copyGain, Estimate topRank, Estimate match) {

    /** The summaries of these results, by task, then length. */
    public static List<TaskSummary> of(List<ProbeResult> results) {
        Map<String, List<ProbeResult>> groups = new TreeMap<>();
        for (ProbeResult r : results) {
            groups.computeIfAbsent(String.format("%02d-%09d", r.task().ordinal(), r.length()), k -> new ArrayList<>())
                    .add(r);
        }
        List<TaskSummary> summaries = new ArrayList<>();
        for (List<ProbeResult> group : groups.values()) {
            int n = group.size();
            int top = (int) group.stream().filter(r -> r.firstTokenRank() == 1).count();
            summaries.add(new TaskSummary(group.get(0).task(), group.get(0).length(), n,
                    Estimate.mean(group.stream().mapToDouble(ProbeResult::meanLogprob).toArray()),
                    Estimate.mean(group.stream().mapToDouble(ProbeResult::controlMeanLogprob).toArray()),
                    Estimate.mean(group.stream().mapToDouble(ProbeResult::copyGain).toArray()),
                    Estimate.share(top, n),
                    Estimate.mean(group.stream().mapToDouble(ProbeResult::match).toArray(), 0, 1)));
        }
        summaries.sort(Comparator.comparing(TaskSummary::task).thenComparingInt(TaskSummary::length));
        return summaries;
    }
}
