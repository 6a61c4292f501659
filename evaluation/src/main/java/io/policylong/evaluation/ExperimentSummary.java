package io.policylong.evaluation;

import io.policylong.report.Charts;
import io.policylong.report.ReportFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import org.jfree.chart.JFreeChart;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.YIntervalSeries;

/**
 * The comparison of an experiment's arms over its seeds: per arm, the held-out loss and, per task and length, the
 * answer log-probability and copy gain, each a mean over seeds with its 95 % interval; and the on-policy arm against
 * each other arm, seed by seed (paired), so that an interval that excludes 0 is a difference beyond seed noise.
 *
 * @param arms per arm, in the order given
 * @param paired {@code onPolicy - other} per other arm
 * @param base the base checkpoint's run, or null
 */
public record ExperimentSummary(Map<String, Arm> arms, Map<String, Arm> paired, ArmRun base) {
    private static final Estimate NONE = new Estimate(Double.NaN, Double.NaN, Double.NaN);

    /**
     * @param runs the seeds' runs
     * @param heldOutLoss over seeds
     * @param logprob per task and length, over seeds
     * @param copyGain per task and length, over seeds
     */
    public record Arm(int runs, Estimate heldOutLoss, Map<String, Estimate> logprob, Map<String, Estimate> copyGain) {
    }

    /** The summary of these runs; {@code onPolicy} names the arm the others are compared with. */
    public static ExperimentSummary of(List<ArmRun> runs, List<String> armOrder, String onPolicy, ArmRun base) {
        Map<String, Arm> arms = new LinkedHashMap<>();
        for (String arm : armOrder) {
            List<ArmRun> mine = runs.stream().filter(r -> r.arm().equals(arm)).toList();
            if (!mine.isEmpty()) {
                arms.put(arm, arm(mine, r -> r.heldOutLoss(), ArmRun::logprob, ArmRun::copyGain));
            }
        }
        Map<String, Arm> paired = new LinkedHashMap<>();
        List<ArmRun> reference = runs.stream().filter(r -> r.arm().equals(onPolicy)).toList();
        for (String arm : armOrder) {
            if (arm.equals(onPolicy)) {
                continue;
            }
            List<ArmRun> differences = new ArrayList<>();
            for (ArmRun a : reference) {
                runs.stream().filter(r -> r.arm().equals(arm) && r.seed() == a.seed()).findFirst().ifPresent(o ->
                        differences.add(new ArmRun(onPolicy + "-" + arm, a.seed(), 0,
                                a.heldOutLoss() - o.heldOutLoss(), minus(a.logprob(), o.logprob()),
                                minus(a.copyGain(), o.copyGain()), 0)));
            }
            if (!differences.isEmpty()) {
                paired.put(onPolicy + " - " + arm, arm(differences, ArmRun::heldOutLoss, ArmRun::logprob,
                        ArmRun::copyGain));
            }
        }
        return new ExperimentSummary(arms, paired, base);
    }

    private static Map<String, Double> minus(Map<String, Double> a, Map<String, Double> b) {
        Map<String, Double> d = new LinkedHashMap<>();
        a.forEach((k, v) -> {
            if (b.containsKey(k)) {
                d.put(k, v - b.get(k));
            }
        });
        return d;
    }

    private static Arm arm(List<ArmRun> runs, java.util.function.ToDoubleFunction<ArmRun> loss,
            Function<ArmRun, Map<String, Double>> logprob, Function<ArmRun, Map<String, Double>> gain) {
        TreeSet<String> keys = new TreeSet<>();
        runs.forEach(r -> keys.addAll(logprob.apply(r).keySet()));
        Map<String, Estimate> lp = new LinkedHashMap<>();
        Map<String, Estimate> cg = new LinkedHashMap<>();
        for (String k : keys) {
            lp.put(k, Estimate.mean(runs.stream().mapToDouble(r -> logprob.apply(r).getOrDefault(k, Double.NaN))
                    .toArray()));
            cg.put(k, Estimate.mean(runs.stream().mapToDouble(r -> gain.apply(r).getOrDefault(k, Double.NaN))
                    .toArray()));
        }
        return new Arm(runs.size(), Estimate.mean(runs.stream().mapToDouble(loss).toArray()), lp, cg);
    }

    /**
     * The tables in Markdown: held-out loss and answer log-probability per arm, then the paired differences; the
     * same for the copy gain.
     */
    public String table() {
        StringBuilder t = new StringBuilder();
        // By task, then by length as a number (as text 1024 would come before 512).
        List<String> keys = arms.values().stream().flatMap(a -> a.logprob().keySet().stream()).distinct()
                .sorted(Comparator.comparing((String k) -> k.substring(0, k.indexOf('@')))
                        .thenComparingInt(ExperimentSummary::length)).toList();
        section(t, "Held-out loss (nats per token) and the answer's log-probability per token (teacher-forced), mean "
                + "over seeds with its 95 % interval:", "logprob", keys, Arm::logprob,
                base == null ? null : base.logprob());
        section(t, "Paired differences (on-policy minus the other arm, seed by seed); an interval without 0 is a "
                + "difference beyond seed noise:", "logprob", keys, Arm::logprob, null, paired);
        section(t, "Copy gain (answer log-probability per token with the needle minus without), mean over seeds:",
                "copy gain", keys, Arm::copyGain, base == null ? null : base.copyGain());
        section(t, "Paired differences of the copy gain (on-policy minus the other arm):", "copy gain", keys,
                Arm::copyGain, null, paired);
        return t.toString();
    }

    private void section(StringBuilder t, String caption, String metric, List<String> keys,
            Function<Arm, Map<String, Estimate>> values, Map<String, Double> baseValues) {
        section(t, caption, metric, keys, values, baseValues, arms);
    }

    private void section(StringBuilder t, String caption, String metric, List<String> keys,
            Function<Arm, Map<String, Estimate>> values, Map<String, Double> baseValues, Map<String, Arm> rows) {
        if (t.length() > 0) {
            t.append("\n");
        }
        t.append(caption).append("\n\n| ").append(rows == paired ? "comparison" : "arm")
                .append(" | seeds | held-out loss |");
        keys.forEach(k -> t.append(" ").append(metric).append(" ").append(k).append(" |"));
        t.append("\n|---|---|---|").append("---|".repeat(keys.size())).append("\n");
        if (baseValues != null) {
            t.append("| base | – | ").append(number(base.heldOutLoss())).append(" |");
            keys.forEach(k -> t.append(" ").append(number(baseValues.getOrDefault(k, Double.NaN))).append(" |"));
            t.append("\n");
        }
        rows.forEach((name, a) -> {
            t.append("| ").append(name).append(" | ").append(a.runs()).append(" | ")
                    .append(withInterval(a.heldOutLoss())).append(" |");
            keys.forEach(k -> t.append(" ").append(withInterval(values.apply(a).getOrDefault(k, NONE))).append(" |"));
            t.append("\n");
        });
    }

    /**
     * Writes {@code experiment.json}, the plots as PNG files (per task: each arm's answer log-probability by length,
     * and the paired differences with their intervals) and {@code index.html} (the tables and the plots) into a
     * directory.
     */
    public void write(Path directory) throws IOException {
        Files.createDirectories(directory);
        ReportFiles.writeAtomically(directory.resolve("experiment.json"), ReportFiles.json(this));
        StringBuilder page = new StringBuilder(ReportFiles.pageStart("On-policy against off-policy data"));
        page.append("<pre>").append(table().replace("<", "&lt;")).append("</pre>\n");
        TreeSet<String> tasks = new TreeSet<>();
        arms.values().forEach(a -> a.logprob().keySet().forEach(k -> tasks.add(k.substring(0, k.indexOf('@')))));
        for (String task : tasks) {
            List<XYSeries> series = new ArrayList<>();
            if (base != null) {
                XYSeries s = new XYSeries("base");
                base.logprob().forEach((k, v) -> {
                    if (k.startsWith(task + "@")) {
                        Charts.add(s, length(k), v);
                    }
                });
                series.add(s);
            }
            arms.forEach((name, a) -> {
                XYSeries s = new XYSeries(name);
                a.logprob().forEach((k, e) -> {
                    if (k.startsWith(task + "@")) {
                        Charts.add(s, length(k), e.mean());
                    }
                });
                series.add(s);
            });
            String file = task.replace('_', '-');
            plot(directory, page, file + "-answer-logprob.png", Charts.lineChart(task
                    + ": answer log-probability per token", "length (tokens)", "nats per token", true,
                    series.toArray(XYSeries[]::new)));
            plot(directory, page, file + "-paired-differences.png", Charts.intervalChart(task
                    + ": on-policy minus each arm (95 % intervals over seeds)", "length (tokens)",
                    "difference, nats per token", differences(task)));
        }
        page.append("\n<p>The same numbers: <a href=\"experiment.json\">experiment.json</a>.</p>\n</body></html>\n");
        ReportFiles.writeAtomically(directory.resolve("index.html"), page.toString());
    }

    /** One series per comparison; each shifted a little along x so that the bars at one length do not overlap. */
    private YIntervalSeries[] differences(String task) {
        int longest = paired.values().stream().flatMap(a -> a.logprob().keySet().stream())
                .filter(k -> k.startsWith(task + "@")).mapToInt(ExperimentSummary::length).max().orElse(1);
        List<YIntervalSeries> series = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, Arm> comparison : paired.entrySet()) {
            double shift = (i++ - (paired.size() - 1) / 2.0) * longest * 0.02;
            YIntervalSeries s = new YIntervalSeries(comparison.getKey());
            comparison.getValue().logprob().forEach((k, e) -> {
                if (k.startsWith(task + "@")) {
                    Charts.add(s, length(k) + shift, e.mean(), e.low(), e.high());
                }
            });
            series.add(s);
        }
        return series.toArray(YIntervalSeries[]::new);
    }

    private static void plot(Path directory, StringBuilder page, String file, JFreeChart chart) throws IOException {
        byte[] png = Charts.png(chart);
        ReportFiles.writeAtomically(directory.resolve(file), png);
        page.append(Charts.image(chart.getTitle().getText(), png));
    }

    private static int length(String key) {
        return Integer.parseInt(key.substring(key.indexOf('@') + 1));
    }

    private static String withInterval(Estimate e) {
        return number(e.mean()) + (Double.isFinite(e.low()) ? String.format(Locale.ROOT, " [%.3f, %.3f]", e.low(),
                e.high()) : "");
    }

    private static String number(double d) {
        return Double.isFinite(d) ? String.format(Locale.ROOT, "%.3f", d) : "–";
    }
}
