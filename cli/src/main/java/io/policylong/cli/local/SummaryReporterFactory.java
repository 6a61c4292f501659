package io.policylong.cli.local;

import java.util.Properties;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/** Creates the {@link SummaryReporter} ({@code metrics.reporter.<name>.factory.class}). */
public final class SummaryReporterFactory implements MetricReporterFactory {
    @Override
    public MetricReporter createMetricReporter(Properties properties) {
        return new SummaryReporter();
    }
}
