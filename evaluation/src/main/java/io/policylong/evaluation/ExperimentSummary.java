package io.policylong.evaluation;

import io.policylong.report.Charts;
import io.policylong.report.ReportFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import org.jfree.data.xy.XYSeries;

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

    /** The tables in Markdown: per arm, then the paired differences. */
    public String table() {
        StringBuilder t = new StringBuilder();
        List<String> keys = new ArrayList<>(new TreeSet<>(arms.values().stream().flatMap(a -> a.logprob().keySet()
                .stream()).toList()));
        t.append("| arm | seeds | held-out loss |");
        keys.forEach(k -> t.append(" logprob ").append(k).append(" |"));
        t.append("\n|---|---|---|").append("---|".repeat(keys.size())).append("\n");
        if (base != null) {
            t.append("| base | – | ").append(number(base.heldOutLoss())).append(" |");
            keys.forEach(k -> t.append(" ").append(number(base.logprob().getOrDefault(k, Double.NaN))).append(" |"));
            t.append("\n");
        }
        arms.forEach((name, a) -> row(t, name, a, a.logprob(), keys));
        t.append("\nPaired differences (on-policy minus the other arm, seed by seed); an interval without 0 is a "
                + "difference beyond seed noise:\n\n| comparison | seeds | held-out loss |");
        keys.forEach(k -> t.append(" logprob ").append(k).append(" |"));
        t.append("\n|---|---|---|").append("---|".repeat(keys.size())).append("\n");
        paired.forEach((name, a) -> row(t, name, a, a.logprob(), keys));
        return t.toString();
    }

    private static void row(StringBuilder t, String name, Arm a, Map<String, Estimate> values, List<String> keys) {
        t.append("| ").append(name).append(" | ").append(a.runs()).append(" | ").append(withInterval(a.heldOutLoss()))
                .append(" |");
        keys.forEach(k -> t.append(" ").append(withInterval(values.getOrDefault(k, new Estimate(Double.NaN,
                Double.NaN, Double.NaN)))).append(" |"));
        t.append("\n");
    }

    /** Writes {@code experiment.json} and {@code index.html} (the tables and a plot per task) into a directory. */
    public void write(Path directory) throws IOException {
        Files.createDirectories(directory);
        ReportFiles.writeAtomically(directory.resolve("experiment.json"), ReportFiles.json(this));
        StringBuilder page = new StringBuilder(ReportFiles.pageStart("On-policy against off-policy data"));
        page.append("<pre>").append(table().replace("<", "&lt;")).append("</pre>\n");
        TreeSet<String> tasks = new TreeSet<>();
        arms.values().forEach(a -> a.logprob().keySet().forEach(k -> tasks.add(k.substring(0, k.indexOf('@')))));
        for (String task : tasks) {
            List<XYSeries> series = new ArrayList<>();
            arms.forEach((name, a) -> {
                XYSeries s = new XYSeries(name);
                a.logprob().forEach((k, e) -> {
                    if (k.startsWith(task + "@")) {
                        Charts.add(s, Integer.parseInt(k.substring(k.indexOf('@') + 1)), e.mean());
                    }
                });
                series.add(s);
            });
            page.append(Charts.image(Charts.lineChart(task + ": answer log-probability per token", "length (tokens)",
                    "nats per token", true, series.toArray(XYSeries[]::new))));
        }
        page.append("\n<p>The same numbers: <a href=\"experiment.json\">experiment.json</a>.</p>\n</body></html>\n");
        ReportFiles.writeAtomically(directory.resolve("index.html"), page.toString());
    }

    private static String withInterval(Estimate e) {
        return number(e.mean()) + (Double.isFinite(e.low()) ? String.format(Locale.ROOT, " [%.3f, %.3f]", e.low(),
                e.high()) : "");
    }

    private static String number(double d) {
        return Double.isFinite(d) ? String.format(Locale.ROOT, "%.3f", d) : "–";
    }
}
