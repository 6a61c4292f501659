package io.policylong.cli.local;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.Scheduled;

/**
 * A Flink metric reporter that prints one summary line of the screening job at every report interval,
 * adding the job's metrics up over all parallel instances: documents in and screened, screenings per policy
 * version, anchors per document, candidates verified, positives and hard negatives with their mean dI,
 * samples written and dropped, dead letters by stage and reason, the current version, the re-screen backlog and the
 * mean staleness of emitted samples.
 */
public final class SummaryReporter implements MetricReporter, Scheduled {
    private final Map<String, List<Metric>> byName = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Counter>> byVariable = new ConcurrentHashMap<>();
    /** Final counts of counters whose task has finished (a bounded source, for example). */
    private final Map<String, Long> retired = new ConcurrentHashMap<>();
    private PrintStream out = System.out;

    @Override
    public void open(MetricConfig config) {
    }

    @Override
    public void close() {
    }

    /** Where the summary goes (tests). */
    void printTo(PrintStream stream) {
        this.out = stream;
    }

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        byName.computeIfAbsent(name, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(metric);
        for (String variable : List.of("<version>", "<reason>")) {
            String value = group.getAllVariables().get(variable);
            if (value != null && metric instanceof Counter c) {
                byVariable.computeIfAbsent(name + variable, k -> new ConcurrentHashMap<>()).merge(value, c,
                        (a, b) -> new SumCounter(a, b));
            }
        }
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
        List<Metric> list = byName.get(name);
        if (list != null && list.remove(metric) && metric instanceof Counter c) {
            retired.merge(name, c.getCount(), Long::sum);
        }
    }

    @Override
    public void report() {
        String line = summary();
        if (line != null) {
            out.println(line);
            out.flush();
        }
    }

    /** The summary line, or null before the job has registered its metrics. */
    String summary() {
        if (!byName.containsKey("documentsIn")) {
            return null;
        }
        long screened = sum("documentsScreened");
        return String.format(Locale.ROOT, "summary: documents in %d, rejected %d, screened %d%s, anchors per document "
                        + "%.1f, candidates verified %d, positives %d (mean dI %.2f), hard negatives %d (mean dI %.2f), "
                        + "samples written %d (mean fill %.0f%%), dropped %d (%d without a positive), dead letters %d%s, "
                        + "current version %d, "
                        + "re-screen backlog %d,"
                        + " mean staleness %.2f",
                sum("documentsIn"), sum("documentsRejected"), screened, byValue("screened<version>", "v"),
                screened == 0 ? 0.0 : (double) sum("anchors") / screened, sum("candidatesVerified"), sum("positives"),
                meanMilli("positiveGainMilli"), sum("hardNegatives"), meanMilli("hardNegativeGainMilli"),
                sum("samplesWritten"), meanMilli("sampleFillPermille") * 100, sum("samplesDropped"),
                sum("samplesWithoutPositive"), sumVariable("deadLetters<reason>"),
                byValue("deadLetters<reason>", ""), maxGauge("currentVersion"), sumGauge("rescreenBacklog"),
                mean("sampleStaleness"));
    }

    private long sum(String name) {
        long total = retired.getOrDefault(name, 0L);
        for (Metric m : byName.getOrDefault(name, List.of())) {
            if (m instanceof Counter c) {
                total += c.getCount();
            }
        }
        return total;
    }

    private long sumVariable(String key) {
        long total = 0;
        for (Counter c : byVariable.getOrDefault(key, Map.of()).values()) {
            total += c.getCount();
        }
        return total;
    }

    private String byValue(String key, String prefix) {
        Map<String, Counter> counters = byVariable.get(key);
        if (counters == null || counters.isEmpty()) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        new TreeMap<>(counters).forEach((value, c) -> parts.add(prefix + value + ": " + c.getCount()));
        return " (" + String.join(", ", parts) + ")";
    }

    private long maxGauge(String name) {
        long max = -1;
        for (Metric m : byName.getOrDefault(name, List.of())) {
            if (m instanceof Gauge<?> g && g.getValue() instanceof Number n) {
                max = Math.max(max, n.longValue());
            }
        }
        return max;
    }

    private long sumGauge(String name) {
        long total = 0;
        for (Metric m : byName.getOrDefault(name, List.of())) {
            if (m instanceof Gauge<?> g && g.getValue() instanceof Number n) {
                total += n.longValue();
            }
        }
        return total;
    }

    private double mean(String name) {
        double sum = 0;
        long count = 0;
        for (Metric m : byName.getOrDefault(name, List.of())) {
            if (m instanceof Histogram h && h.getCount() > 0) {
                int size = h.getStatistics().size();
                sum += h.getStatistics().getMean() * size;
                count += size;
            }
        }
        return count == 0 ? 0 : sum / count;
    }

    private double meanMilli(String name) {
        return mean(name) / 1000;
    }

    /** Two counters of the same name and variable in different subtasks, read as one. */
    private record SumCounter(Counter a, Counter b) implements Counter {
        @Override
        public void inc() {
            throw new UnsupportedOperationException("read-only view");
        }

        @Override
        public void inc(long n) {
            throw new UnsupportedOperationException("read-only view");
        }

        @Override
        public void dec() {
            throw new UnsupportedOperationException("read-only view");
        }

        @Override
        public void dec(long n) {
            throw new UnsupportedOperationException("read-only view");
        }

        @Override
        public long getCount() {
            return a.getCount() + b.getCount();
        }
    }
}
