package io.policylong.evaluation;

import io.policylong.report.Charts;
import io.policylong.report.ReportFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.jfree.data.xy.XYSeries;

/**
 * The evaluation of one checkpoint: the settings that made the probes, a summary per task and length, and every
 * probe's result; written as {@code eval.json} and as {@code index.html} in the style of the curriculum report, both
 * from this one record, and as the console table.
 *
 * @param checkpoint the checkpoint evaluated
 * @param seed the probe seed
 * @param probesPerCell probes per task and length
 * @param summaries per task and length
 * @param results per probe
 */
public record EvalReport(String checkpoint, long seed, int probesPerCell, List<TaskSummary> summaries,
        List<ProbeResult> results) {

    /** Writes {@code eval.json} and {@code index.html} into {@code directory}. */
    public void write(Path directory) throws IOException {
        Files.createDirectories(directory);
        ReportFiles.writeAtomically(directory.resolve("eval.json"), ReportFiles.json(this));
        ReportFiles.writeAtomically(directory.resolve("index.html"), html());
    }

    /** The table of the summaries, in Markdown (the console's and the docs' form). */
    public String table() {
        StringBuilder t = new StringBuilder("| task | length | probes | logprob / token [95% CI] | control "
                + "| copy gain [95% CI] | top-1 first token | match [95% CI] |\n|---|---|---|---|---|---|---|---|\n");
        for (TaskSummary s : summaries) {
            t.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %s | %s | %s | %s |%n", s.task().label(),
                    s.length(), s.probes(), withInterval(s.meanLogprob()), number(s.controlMeanLogprob().mean()),
                    withInterval(s.copyGain()), number(s.topRank().mean()), withInterval(s.match())));
        }
        return t.toString();
    }

    private String html() throws IOException {
        StringBuilder page = new StringBuilder(ReportFiles.pageStart("Long-context probes"));
        page.append("<p>").append(checkpoint).append(", seed ").append(seed).append(", ").append(probesPerCell)
                .append(" probes per task and length.</p>\n<table><tr><th>task</th><th>length</th><th>probes</th>")
                .append("<th>logprob / token</th><th>95% CI</th><th>control</th><th>copy gain</th><th>95% CI</th>")
                .append("<th>top-1 first token</th><th>match</th><th>95% CI</th></tr>\n");
        for (TaskSummary s : summaries) {
            page.append("<tr><td>").append(s.task().label()).append("</td><td>").append(s.length()).append("</td><td>")
                    .append(s.probes()).append("</td>");
            for (String cell : new String[] {number(s.meanLogprob().mean()), interval(s.meanLogprob()),
                number(s.controlMeanLogprob().mean()), number(s.copyGain().mean()), interval(s.copyGain()),
                number(s.topRank().mean()), number(s.match().mean()), interval(s.match())}) {
                page.append("<td>").append(cell).append("</td>");
            }
            page.append("</tr>\n");
        }
        page.append("</table>\n");
        page.append(Charts.image(chart("Answer log-probability per token", "nats per token", TaskSummary::meanLogprob)));
        page.append(Charts.image(chart("Copy gain (with the needle minus without)", "nats per token",
                TaskSummary::copyGain)));
        if (summaries.stream().anyMatch(s -> Double.isFinite(s.match().mean()))) {
            page.append(Charts.image(chart("Greedy answers: string-match-all", "score", TaskSummary::match)));
        }
        page.append("\n<p>The same numbers: <a href=\"eval.json\">eval.json</a>.</p>\n</body></html>\n");
        return page.toString();
    }

    private org.jfree.chart.JFreeChart chart(String title, String y, Function<TaskSummary, Estimate> value) {
        List<ProbeTask> tasks = summaries.stream().map(TaskSummary::task).distinct().toList();
        XYSeries[] series = new XYSeries[tasks.size()];
        for (int i = 0; i < tasks.size(); i++) {
            series[i] = new XYSeries(tasks.get(i).label());
            for (TaskSummary s : summaries) {
                if (s.task() == tasks.get(i)) {
                    Charts.add(series[i], s.length(), value.apply(s).mean());
                }
            }
        }
        return Charts.lineChart(title, "length (tokens)", y, true, series);
    }

    private static String withInterval(Estimate e) {
        return number(e.mean()) + (Double.isFinite(e.low()) ? " " + interval(e) : "");
    }

    private static String interval(Estimate e) {
        return Double.isFinite(e.low()) ? String.format(Locale.ROOT, "[%.3f, %.3f]", e.low(), e.high()) : "–";
    }

    private static String number(double d) {
        return Double.isFinite(d) ? String.format(Locale.ROOT, "%.3f", d) : "–";
    }
}
