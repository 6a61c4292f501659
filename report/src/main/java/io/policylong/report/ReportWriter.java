package io.policylong.report;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Writes a {@link CurriculumReport} as {@code report.json} and as {@code index.html}, a self-contained page (its
 * charts are PNGs drawn with JFreeChart and embedded) showing the same numbers. Both files are written under
 * hidden names and renamed into place, so a reader never sees half a report.
 */
public final class ReportWriter {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .registerModule(new SimpleModule().addSerializer(Double.class, new NanAsNull())
                    .addSerializer(Double.TYPE, new NanAsNull()));

    private ReportWriter() {
    }

    /** Writes both files into {@code directory}. */
    public static void write(CurriculumReport report, Path directory) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(directory);
        replace(directory.resolve("report.json"), JSON.writeValueAsString(report));
        replace(directory.resolve("index.html"), html(report));
    }

    /** The JSON form of a report. */
    public static String json(CurriculumReport report) throws IOException {
        return JSON.writeValueAsString(report);
    }

    private static void replace(Path file, String text) throws IOException {
        Path temp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(temp, text, StandardCharsets.UTF_8);
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String html(CurriculumReport report) throws IOException {
        StringBuilder page = new StringBuilder();
        page.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>PolicyLong curriculum</title>")
                .append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}img{margin:1em 1em 0 0}</style>")
                .append("</head><body>\n<h1>Curriculum per policy version</h1>\n");
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
        page.append(image(chart("Contexts per document", "policy version", "per document", report,
                new String[] {"positives", "hard negatives", "anchors"},
                v -> v.positivesPerDocument(), v -> v.hardNegativesPerDocument(), v -> v.anchorsPerDocument())));
        page.append(image(chart("dI of verified contexts", "policy version", "dI", report,
                new String[] {"positives p10", "positives p50", "positives p90", "hard negatives p50"},
                v -> v.positiveGain().p10(), v -> v.positiveGain().p50(), v -> v.positiveGain().p90(),
                v -> v.hardNegativeGain().p50())));
        page.append(image(chart("Change from the version before", "policy version", "share", report,
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
                add(loss, s.step(), s.trainLoss());
                add(heldOut, s.step(), s.heldOutLoss());
                add(heldOutSamples, s.step(), s.heldOutSampleLoss());
                newest.add(s.step(), s.newestVersion());
                add(sampled, s.step(), s.meanSampleVersion());
            }
            page.append(image(lineChart("Trainer loss", "step", "nats per token", loss, heldOut, heldOutSamples)));
            page.append(image(lineChart("Versions trained on", "step", "version", newest, sampled)));
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
                add(swap, v.version(), latency);
                add(rate, v.version(), v.screeningsPerSecond());
            }
            page.append("</table>\n");
            page.append(image(lineChart("Following the versions", "policy version", "seconds, per second", swap,
                    rate)));
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
                add(series[i], v.version(), values[i].applyAsDouble(v));
            }
        }
        return lineChart(title, x, y, series);
    }

    private static JFreeChart lineChart(String title, String x, String y, XYSeries... series) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (XYSeries s : series) {
            data.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, x, y, data, PlotOrientation.VERTICAL, true, false,
                false);
        XYPlot plot = chart.getXYPlot();
        // Versions and steps are whole numbers.
        ((NumberAxis) plot.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < series.length; i++) {
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(renderer);
        return chart;
    }

    private static void add(XYSeries series, double x, double y) {
        if (Double.isFinite(y)) {
            series.add(x, y);
        }
    }

    private static String image(JFreeChart chart) throws IOException {
        BufferedImage image = chart.createBufferedImage(640, 360);
        return "<img alt=\"" + chart.getTitle().getText() + "\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(ChartUtils.encodeAsPNG(image)) + "\">\n";
    }

    private static String number(double d) {
        return Double.isFinite(d) ? String.format(Locale.ROOT, "%.3f", d) : "–";
    }

    /** JSON has no NaN: a missing number is null. */
    private static final class NanAsNull extends JsonSerializer<Double> {
        @Override
        public void serialize(Double value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            if (value == null || !Double.isFinite(value)) {
                gen.writeNull();
            } else {
                gen.writeNumber(value);
            }
        }
    }
}
