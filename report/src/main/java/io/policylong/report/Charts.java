package io.policylong.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Base64;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.renderer.xy.XYItemRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/** The line charts of the project's reports (JFreeChart), and their embedding in a self-contained HTML page. */
public final class Charts {
    private Charts() {
    }

    /** A line chart with markers of these series; the x axis counts in whole numbers when {@code integerX}. */
    public static JFreeChart lineChart(String title, String x, String y, boolean integerX, XYSeries... series) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (XYSeries s : series) {
            data.addSeries(s);
        }
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < series.length; i++) {
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        return chart(title, x, y, integerX, data, renderer);
    }

    /**
     * Points with vertical error bars (confidence intervals), one marker per series at each x, and a line at y = 0 so
     * that an interval that excludes 0 can be seen at a glance.
     */
    public static JFreeChart intervalChart(String title, String x, String y, YIntervalSeries... series) {
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        for (YIntervalSeries s : series) {
            data.addSeries(s);
        }
        XYErrorRenderer renderer = new XYErrorRenderer();
        renderer.setDrawXError(false);
        renderer.setDefaultLinesVisible(false);
        renderer.setCapLength(6);
        renderer.setErrorStroke(new BasicStroke(1.5f));
        JFreeChart chart = chart(title, x, y, false, data, renderer);
        chart.getXYPlot().addRangeMarker(new ValueMarker(0, Color.DARK_GRAY, new BasicStroke(1f)));
        return chart;
    }

    /** The reports' chart style (white plot, grey grid) around this data and renderer. */
    private static JFreeChart chart(String title, String x, String y, boolean integerX, XYDataset data,
            XYItemRenderer renderer) {
        System.setProperty("java.awt.headless", "true");
        JFreeChart chart = ChartFactory.createXYLineChart(title, x, y, data, PlotOrientation.VERTICAL, true, false,
                false);
        XYPlot plot = chart.getXYPlot();
        if (integerX) {
            ((NumberAxis) plot.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        }
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setRenderer(renderer);
        return chart;
    }

    /** Adds a point with its interval when its value is a number; without an interval the bar has no length. */
    public static void add(YIntervalSeries series, double x, double y, double low, double high) {
        if (Double.isFinite(y)) {
            series.add(x, y, Double.isFinite(low) ? low : y, Double.isFinite(high) ? high : y);
        }
    }

    /** Adds a point when its value is a number (NaN and infinities leave a gap). */
    public static void add(XYSeries series, double x, double y) {
        if (Double.isFinite(y)) {
            series.add(x, y);
        }
    }

    /** The chart as a PNG image (640 x 360). */
    public static byte[] png(JFreeChart chart) throws IOException {
        BufferedImage image = chart.createBufferedImage(640, 360);
        return ChartUtils.encodeAsPNG(image);
    }

    /** The chart as an {@code <img>} element holding its PNG (640 x 360). */
    public static String image(JFreeChart chart) throws IOException {
        return image(chart.getTitle().getText(), png(chart));
    }

    /** An {@code <img>} element holding this PNG. */
    public static String image(String alt, byte[] png) {
        return "<img alt=\"" + alt + "\" src=\"data:image/png;base64," + Base64.getEncoder().encodeToString(png)
                + "\">\n";
    }
}
