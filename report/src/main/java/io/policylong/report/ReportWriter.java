package io.policylong.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.JFreeChart;
import org.jfree.data.xy.XYSeries;

/**
 * Writes a {@link CurriculumReport} as {@code report.json} and as {@code index.html}, a self-contained page (its
 * charts are PNGs drawn with JFreeChart and embedded) showing the same numbers ({@link ReportFiles}: written under
 * hidden names and renamed into place).
 */
public final class ReportWriter {
    private ReportWriter() {
    }

    /** Writes both files into {@code directory}. */
    public static void write(CurriculumReport report, Path directory) throws IOException {
        Files.createDirectories(directory);
        ReportFiles.writeAtomically(directory.resolve("report.json"), ReportFiles.json(report));
        ReportFiles.writeAtomically(directory.resolve("index.html"), html(report));
    }

    /** The JSON form of a report. */
    public static String json(CurriculumReport report) throws IOException {
        return ReportFiles.json(report);
    }

    static String html(CurriculumReport report) throws IOException {
        StringBuilder page = new StringBuilder();
        page.append(ReportFiles.pageStart("Curriculum per policy version"));
        page.append("<table><tr><th>version</th><th>samples</th><th>documents</th><th>anchors / doc</th>")
                .append("<th>anchor entropy</th><th>positives / doc</th><th>hard negatives / doc</th>")
                .append("<th>dI positives (p50)</th><th>dI hard negatives (p50)</th><th>compared docs</th>")
                .append("<th>positives no longer positive</th><th>hard negatives now positive</th>")
                .append("<th>anchors learned</th><th>new anchors</th></tr>\n");
        for (VersionCurriculum v : report.versions()) {
            page.append("<tr><td>").append(v.version()).append("</td><td>").append(v.samples()).append("</td><td>")
                    .append(v.documents()).append("</td>");
            for (double d : new double[] {v.anchorsPerDocument(), v.anchorMeanEntropy(), v.positivesPerDocument(),
                v.hardNegativesPerDocument(), v.positiveGain().p50(), v.hardNegativeGain().p50()}) {
                page.append("<td>").append(number(d)).append("</td>");
            }
            page.append("<td>").append(v.comparedDocuments()).append("</td>");
            for (double d : new double[] {v.positivesNoLongerPositive(), v.hardNegativesNowPositive(),
                v.anchorsLearned(), v.anchorsNew()}) {
                page.append("<td>").append(number(d)).append("</td>");
            }
            page.append("</tr>\n");
        }
        page.append("</table>\n");
        page.append(Charts.image(chart("Contexts per document", "policy version", "per document", report,
                new String[] {"positives", "hard negatives", "anchors"},
                v -> v.positivesPerDocument(), v -> v.hardNegativesPerDocument(), v -> v.anchorsPerDocument())));
        page.append(Charts.image(chart("dI of verified contexts", "policy version", "dI", report,
                new String[] {"positives p10", "positives p50", "positives p90", "hard negatives p50"},
                v -> v.positiveGain().p10(), v -> v.positiveGain().p50(), v -> v.positiveGain().p90(),
                v -> v.hardNegativeGain().p50())));
        page.append(Charts.image(chart("Change from the version before", "policy version", "share", report,
                new String[] {"positives no longer positive", "hard negatives now positive", "anchors learned",
                    "new anchors"},
                VersionCurriculum::positivesNoLongerPositive, VersionCurriculum::hardNegativesNowPositive,
                VersionCurriculum::anchorsLearned, VersionCurriculum::anchorsNew)));
        TrainerCurriculum trainer = report.trainer();
        if (trainer != null) {
            page.append("\n<h2>Trainer</h2>\n<p>Mean staleness of the samples trained on (newest announced version "
                    + "minus the sample's version): ").append(number(trainer.meanStaleness())).append("</p>\n");
            XYSeries loss = new XYSeries("training loss");
            XYSeries heldOut = new XYSeries("held-out text");
            XYSeries heldOutSamples = new XYSeries("held-out samples");
            XYSeries newest = new XYSeries("newest announced version");
            XYSeries sampled = new XYSeries("mean version of the samples");
            for (TrainerCurriculum.Step s : trainer.steps()) {
                Charts.add(loss, s.step(), s.trainLoss());
                Charts.add(heldOut, s.step(), s.heldOutLoss());
                Charts.add(heldOutSamples, s.step(), s.heldOutSampleLoss());
                newest.add(s.step(), s.newestVersion());
                Charts.add(sampled, s.step(), s.meanSampleVersion());
            }
            page.append(Charts.image(Charts.lineChart("Trainer loss", "step", "nats per token", true, loss, heldOut,
                    heldOutSamples)));
            page.append(Charts.image(Charts.lineChart("Versions trained on", "step", "version", true, newest,
                    sampled)));
        }
        JobTelemetry job = report.job();
        if (job != null) {
            page.append("\n<h2>Job</h2>\n<p>").append(job.screenings()).append(" screenings committed in ")
                    .append(number(job.seconds())).append(" s (").append(number(job.screeningsPerSecond()))
                    .append(" per second); ").append(job.forwardTokens()).append(" tokens through the model (")
                    .append(number(job.forwardTokensPerSecond())).append(" per second); ").append(job.positives())
                    .append(" positives.</p>\n");
            page.append("<table><tr><th>version</th><th>hot-swap latency (s)</th><th>screenings</th>")
                    .append("<th>screenings per second</th></tr>\n");
            XYSeries swap = new XYSeries("hot-swap latency (s)");
            XYSeries rate = new XYSeries("screenings per second");
            for (JobTelemetry.Version v : job.versions()) {
                double latency = v.swapSeconds() == null ? Double.NaN : v.swapSeconds();
                page.append("<tr><td>").append(v.version()).append("</td><td>").append(number(latency))
                        .append("</td><td>").append(v.screenings()).append("</td><td>")
                        .append(number(v.screeningsPerSecond())).append("</td></tr>\n");
                Charts.add(swap, v.version(), latency);
                Charts.add(rate, v.version(), v.screeningsPerSecond());
            }
            page.append("</table>\n");
            page.append(Charts.image(Charts.lineChart("Following the versions", "policy version",
                    "seconds, per second", true, swap, rate)));
        }
        page.append("\n<p>The same numbers: <a href=\"report.json\">report.json</a>.</p>\n</body></html>\n");
        return page.toString();
    }

    @SafeVarargs
    private static JFreeChart chart(String title, String x, String y, CurriculumReport report, String[] names,
            ToDoubleFunction<VersionCurriculum>... values) {
        XYSeries[] series = new XYSeries[names.length];
        for (int i = 0; i < names.length; i++) {
            series[i] = new XYSeries(names[i]);
            for (VersionCurriculum v : report.versions()) {
                Charts.add(series[i], v.version(), values[i].applyAsDouble(v));
            }
        }
        return Charts.lineChart(title, x, y, true, series);
    }

    private static String number(double d) {
        return Double.isFinite(d) ? String.format(Locale.ROOT, "%.3f", d) : "–";
    }
}
