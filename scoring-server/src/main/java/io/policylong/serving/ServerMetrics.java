package io.policylong.serving;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.function.DoubleSupplier;

/**
 * The scoring server's Prometheus metrics: requests by outcome and their latency, queue depth, batch sizes and
 * fill, tokens and model FLOPs scored (their rates are tokens/s and FLOP/s), load time per version and resident
 * versions. Rendered in the Prometheus text format at {@code /metrics}.
 */
public final class ServerMetrics {
    /** How a request ended; the {@code outcome} label. */
    public enum Outcome {
        OK, BAD_REQUEST, UNAUTHORIZED, NOT_FOUND, CONFLICT, OVERLOADED, TIMED_OUT, CANCELLED, UNAVAILABLE, FAILED;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Histogram latency;
    private final Histogram batchSequences;
    private final Histogram batchTokens;
    private final Histogram batchFill;
    private final Counter tokens;
    private final Counter flops;
    private final Gauge loadSeconds;
    private final java.util.concurrent.atomic.DoubleAdder fillSum = new java.util.concurrent.atomic.DoubleAdder();
    private final java.util.concurrent.atomic.LongAdder batches = new java.util.concurrent.atomic.LongAdder();

    /**
     * @param queueDepth requests waiting in every version's queue
     * @param residentVersions versions loaded
     */
    public ServerMetrics(DoubleSupplier queueDepth, DoubleSupplier residentVersions) {
        requests = Counter.builder().name("policylong_serve_requests_total")
                .help("Inference requests by outcome").labelNames("outcome").register(registry);
        latency = Histogram.builder().name("policylong_serve_request_seconds")
                .help("Time from a request's arrival to its response").classicOnly()
                .classicExponentialUpperBounds(0.005, 2, 14).register(registry);
        batchSequences = Histogram.builder().name("policylong_serve_batch_sequences")
                .help("Sequences per forward batch").classicOnly().classicExponentialUpperBounds(1, 2, 10)
                .register(registry);
        batchTokens = Histogram.builder().name("policylong_serve_batch_tokens")
                .help("Tokens per forward batch").classicOnly().classicExponentialUpperBounds(64, 2, 12)
                .register(registry);
        batchFill = Histogram.builder().name("policylong_serve_batch_fill")
                .help("Tokens per batch over the batch token budget").classicOnly()
                .classicLinearUpperBounds(0.1, 0.1, 10).register(registry);
        tokens = Counter.builder().name("policylong_serve_tokens_total")
                .help("Tokens scored (the rate is tokens per second)").register(registry);
        flops = Counter.builder().name("policylong_serve_model_flops_total")
                .help("Model FLOPs of the forward passes (the rate is model FLOP/s)").register(registry);
        loadSeconds = Gauge.builder().name("policylong_serve_load_seconds")
                .help("Time it took to load each resident policy version").labelNames("version").register(registry);
        GaugeWithCallback.builder().name("policylong_serve_queue_depth").help("Requests waiting to be batched")
                .callback(c -> c.call(queueDepth.getAsDouble())).register(registry);
        GaugeWithCallback.builder().name("policylong_serve_resident_versions").help("Policy versions loaded")
                .callback(c -> c.call(residentVersions.getAsDouble())).register(registry);
        for (Outcome o : Outcome.values()) {
            requests.labelValues(o.label()); // every outcome shows from the start, at 0
        }
    }

    /** A request ended after {@code seconds}. */
    public void request(Outcome outcome, double seconds) {
        requests.labelValues(outcome.label()).inc();
        latency.observe(seconds);
    }

    /** A batch went through the model. */
    public void batch(int sequences, long batchTokenCount, long budget, double modelFlops) {
        batchSequences.observe(sequences);
        batchTokens.observe(batchTokenCount);
        double fill = Math.min(1.0, (double) batchTokenCount / budget);
        batchFill.observe(fill);
        fillSum.add(fill);
        batches.increment();
        tokens.inc(batchTokenCount);
        flops.inc(modelFlops);
    }

    /** A version was loaded in {@code seconds}. */
    public void loaded(long version, double seconds) {
        loadSeconds.labelValues(String.valueOf(version)).set(seconds);
    }

    /** A version was unloaded. */
    public void unloaded(long version) {
        loadSeconds.remove(String.valueOf(version));
    }

    /** Forward batches so far. */
    public long batches() {
        return batches.sum();
    }

    /** The fill (tokens over the budget) of every forward batch so far, added up. */
    public double batchFillSum() {
        return fillSum.sum();
    }

    /** Requests that ended with {@code outcome} so far. */
    public long count(Outcome outcome) {
        return (long) requests.labelValues(outcome.label()).get();
    }

    /** The metrics in the Prometheus text format. */
    public byte[] scrape() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape(),
                io.prometheus.metrics.config.EscapingScheme.DEFAULT);
        return out.toByteArray();
    }

    /** The content type of {@link #scrape}. */
    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }
}
