package io.policylong.cli;

import io.policylong.model.protocol.InferenceJson;
import io.policylong.model.runtime.ComputeDevice;
import io.policylong.model.scoring.BatchingSettings;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.scoring.MicroBatcher;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.policy.CheckpointDigest;
import io.policylong.serving.ScoringOptions;
import io.policylong.serving.ScoringServer;
import io.policylong.serving.ServedVersions;
import io.policylong.serving.ServerSettings;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong bench serve}: the scoring server under load on loopback against the bare scorer on the same
 * checkpoint and sequences: for each number of concurrent clients, tokens/s, latency percentiles and the mean fill of
 * the forward batches. Bounded in requests and in time; the server is started by the benchmark itself.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Load-test the scoring server on loopback against the bare scorer (tokens/s, latency, batch fill).")
public final class BenchServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", defaultValue = "models/byte-lm-4m", paramLabel = "DIR",
            description = "The checkpoint to serve. Default: ${DEFAULT-VALUE}.")
    Path checkpoint;

    @Option(names = "--clients", split = ",", defaultValue = "1,8,64",
            description = "Concurrent clients, one measurement each. Default: ${DEFAULT-VALUE}.")
    List<Integer> clients;

    @Option(names = "--length", defaultValue = "512", description = "Tokens per request. Default: ${DEFAULT-VALUE}.")
    int length;

    @Option(names = "--requests", defaultValue = "256",
            description = "Requests per measurement at most. Default: ${DEFAULT-VALUE}.")
    int requests;

    @Option(names = "--seconds", defaultValue = "60",
            description = "Time per measurement at most (clients stop starting requests). Default: ${DEFAULT-VALUE}.")
    double seconds;

    @Mixin
    ScoringOptions scoring;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        BatchingSettings batching = new BatchingSettings(scoring.maxBatchTokens, scoring.maxDelay(),
                Math.max(scoring.queueCapacity, 1024));
        try (LoadedCheckpoint local = LoadedCheckpoint.load(checkpoint, ComputeDevice.resolve(scoring.device),
                scoring.chunks(), scoring.maxBatchTokens)) {
            int vocab = local.config().vocabSize();
            out.printf("checkpoint %s (%s, %d layers, vocab %d), %d tokens per request, batches of up to %d tokens "
                    + "waiting up to %d ms; at most %d requests or %.0f s per row%n%n", checkpoint,
                    local.config().architecture().className(), local.config().numLayers(), vocab, length,
                    scoring.maxBatchTokens, scoring.maxDelayMs, requests, seconds);
            out.printf("| path | clients | requests | tokens/s | mean ms | p50 ms | p95 ms | p99 ms | mean batch fill |%n"
                    + "|---|---|---|---|---|---|---|---|---|%n");
            out.flush();
            ServedVersions versions = new ServedVersions(ComputeDevice.resolve(scoring.device), scoring.chunks(),
                    batching, 1, null);
            versions.load(0, checkpoint.toAbsolutePath().toString(), CheckpointDigest.weightsSha256(checkpoint)).join();
            ScoringServer server = new ScoringServer(new ServerSettings("127.0.0.1", 0, "policylong", null, 64L << 20,
                    1 << 20, Duration.ofMinutes(5), Duration.ofSeconds(30)), versions).start();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI infer = URI.create("http://127.0.0.1:" + server.port() + "/v2/models/policylong/versions/0/infer");
            Scoring remote = request -> {
                HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(infer)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(InferenceJson.writeRequest(null,
                                List.of(request), 0))).build(), HttpResponse.BodyHandlers.ofByteArray());
                if (response.statusCode() != 200) {
                    throw new IllegalStateException("the server answered " + response.statusCode() + ": "
                            + InferenceJson.errorOf(response.body()));
                }
                return InferenceJson.parseResponse(response.body(), List.of(request)).get(0);
            };
            try (MicroBatcher bare = new MicroBatcher(local.scorer(), local.scorer()::validate,
                    batching.maxBatchTokens(), batching.maxDelay(), batching.queueCapacity(), "bench-bare")) {
                Scoring inProcess = request -> bare.submit(request).get();
                // Warm both paths up (JIT, the engine's allocator) before anything is timed.
                load(8, vocab, inProcess, 32);
                load(8, vocab, remote, 32);
                double[] overhead = new double[2];
                // Each client count measures the two paths back to back, so drift on a shared machine hits both.
                for (int c : clients) {
                    Row bareRow = load(c, vocab, inProcess, requests);
                    bareRow.print(out, "bare scorer", c, Double.NaN);
                    long batchesBefore = server.metrics().batches();
                    double fillBefore = server.metrics().batchFillSum();
                    Row serverRow = load(c, vocab, remote, requests);
                    long batches = server.metrics().batches() - batchesBefore;
                    serverRow.print(out, "server (HTTP/1.1, JSON)", c,
                            (server.metrics().batchFillSum() - fillBefore) / Math.max(1, batches));
                    if (c == 1) {
                        overhead[0] = serverRow.meanMs() - bareRow.meanMs();
                        overhead[1] = 1;
                    }
                }
                if (overhead[1] > 0) {
                    out.printf(Locale.ROOT, "%nremote path overhead per request at 1 client (mean latency, server minus "
                            + "bare scorer): %.1f ms%n", overhead[0]);
                }
            } finally {
                server.stop();
            }
        }
        return 0;
    }

    @FunctionalInterface
    private interface Scoring {
        Object score(ScoreRequest request) throws Exception;
    }

    private record Row(int requests, double seconds, long tokens, List<Double> latenciesMs) {
        double meanMs() {
            return latenciesMs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }

        void print(PrintWriter out, String path, int clients, double fill) {
            List<Double> sorted = new ArrayList<>(latenciesMs);
            Collections.sort(sorted);
            out.printf(Locale.ROOT, "| %s | %d | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %s |%n", path, clients,
                    requests, tokens / seconds, meanMs(), percentile(sorted, 0.50), percentile(sorted, 0.95),
                    percentile(sorted, 0.99), Double.isNaN(fill) ? "–" : String.format(Locale.ROOT, "%.2f", fill));
            out.flush();
        }

        private static double percentile(List<Double> sorted, double q) {
            return sorted.isEmpty() ? Double.NaN : sorted.get(Math.min(sorted.size() - 1,
                    (int) Math.ceil(q * sorted.size()) - 1));
        }
    }

    /** {@code clients} threads send up to {@code limit} requests, until they are done or the time is up. */
    private Row load(int clientCount, int vocab, Scoring scoring, int limit) throws Exception {
        AtomicInteger started = new AtomicInteger();
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        ExecutorService pool = Executors.newFixedThreadPool(clientCount);
        long start = System.nanoTime();
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < clientCount; c++) {
                running.add(pool.submit(() -> {
                    int n;
                    while ((n = started.getAndIncrement()) < limit && System.nanoTime() < deadline) {
                        ScoreRequest request = request(vocab, n);
                        long t = System.nanoTime();
                        scoring.score(request);
                        latencies.add((System.nanoTime() - t) / 1e6);
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return new Row(latencies.size(), elapsed, (long) latencies.size() * length, latencies);
    }

    private ScoreRequest request(int vocab, int n) {
        SplittableRandom random = new SplittableRandom(1000L + n);
        long[] ids = new long[length];
        for (int i = 0; i < length; i++) {
            ids[i] = random.nextInt(vocab);
        }
        return ScoreRequest.allPositions(ids);
    }
}
