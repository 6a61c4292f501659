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
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The line charts of the project's reports (JFreeChart), and their embedding in a self-contained HTML page. */
public final class Charts {
    private Charts() {
    }

    /** A line chart with markers of these series; the x axis counts in whole numbers when {@code integerX}. */
    public static JFreeChart lineChart(String title, String x, String y, boolean integerX, XYSeries... series) {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (XYSeries s : series) {
            data.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, x, y, data, PlotOrientation.VERTICAL, true, false,
                false);
        XYPlot plot = chart.getXYPlot();
        if (integerX) {
            ((NumberAxis) plot.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        }
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

    /** Adds a point when its value is a number (NaN and infinities leave a gap). */
    public static void add(XYSeries series, double x, double y) {
        if (Double.isFinite(y)) {
            series.add(x, y);
        }
    }

    /** The chart as an {@code <img>} element holding its PNG (640 x 360). */
    public static String image(JFreeChart chart) throws IOException {
        BufferedImage image = chart.createBufferedImage(640, 360);
        return "<img alt=\"" + chart.getTitle().getText() + "\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(ChartUtils.encodeAsPNG(image)) + "\">\n";
    }
}
