package io.policylong.pipeline.scoring;

import io.policylong.model.protocol.InferenceJson;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The job's client of scoring servers ({@code bin/policylong serve}): one sequence per request, spread round-robin
 * over the servers through one shared HTTP client (its connection pool; HTTP/2 where the server upgrades to it). A
 * server that refuses the connection, fails or answers {@code 503} is taken out for a while (longer while it keeps
 * failing) and tried again after;
 * {@code 429}/{@code 503}/{@code 504}/connection errors are retried with exponential backoff and jitter (at least
 * the server's {@code Retry-After}), on the next server, until the caller gives up (cancels the future): a server that
 * is down delays scoring and loses nothing. A version a server has not loaded is loaded there through the repository
 * API with the announced checkpoint and digest (once per try), then asked again. Every request names the weights it
 * means ({@code parameters.sha256}), so a server holding other weights under the version refuses ({@code 409}). A
 * {@code 400}/{@code 409} (the request itself is wrong) fails at once, a {@code 500} after three tries.
 * Scores are a pure function of (version, sequence), so a retry never changes a result.
 */
public final class ScoringClient implements AutoCloseable {
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

    private final List<Endpoint> endpoints = new ArrayList<>();
    private final String modelName;
    private final Duration requestTimeout;
    private final String token;
    private final Duration retryDelay;
    private final HttpClient http;
    private final ScheduledExecutorService timer;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong loads = new AtomicLong();
    private final Set<CompletableFuture<ScoreResult>> pending = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** One server and until when it is out. */
    private static final class Endpoint {
        final URI base;
        volatile long downUntilNanos;
        volatile boolean upgraded;
        /** Failures in a row; how long the server stays out grows with them. */
        volatile int failures;

        Endpoint(URI base) {
            this.base = base;
        }

        boolean up(long now) {
            return now - downUntilNanos >= 0;
        }
    }

    /** The server refused the request itself; retrying cannot help. */
    public static final class RejectedRequestException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        RejectedRequestException(String message) {
            super(message);
        }
    }

    /**
     * A response that asks for another try: after at least {@code delay} (when the server said, else null), and with
     * the server taken out for a while only when {@code serverDown} (it is draining, say; an overloaded or slow server
     * is not down).
     */
    private static final class RetryableException extends IOException {
        private static final long serialVersionUID = 1L;
        final Duration delay;
        final boolean serverDown;

        RetryableException(String message, Duration delay, boolean serverDown) {
            super(message);
            this.delay = delay;
            this.serverDown = serverDown;
        }
    }

    /** Server errors (500) a request may meet before it fails: a request that breaks the model breaks it every time. */
    private static final int SERVER_ERRORS_PER_REQUEST = 3;

    /**
     * @param baseUrls the servers ({@code http://host:port})
     * @param token the bearer token, or null
     * @param retryDelay the first backoff and how long a failing server stays out
     */
    public ScoringClient(List<String> baseUrls, String modelName, Duration requestTimeout, String token,
            Duration retryDelay) {
        if (baseUrls.isEmpty()) {
            throw new IllegalArgumentException("no scoring server given");
        }
        for (String url : baseUrls) {
            endpoints.add(new Endpoint(URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url)));
        }
        this.modelName = modelName;
        this.requestTimeout = requestTimeout;
        this.token = token;
        this.retryDelay = retryDelay.isZero() ? Duration.ofMillis(100) : retryDelay;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "scoring-client-retries");
            t.setDaemon(true);
            return t;
        });
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /**
     * Scores a sequence under a policy version.
     *
     * @param uri the version's checkpoint, as announced (for a server that has not loaded it)
     * @param sha256 its weights' digest, as announced
     */
    public CompletableFuture<ScoreResult> score(long version, String uri, String sha256, ScoreRequest request) {
        CompletableFuture<ScoreResult> result = new CompletableFuture<>();
        requests.incrementAndGet();
        byte[] body = InferenceJson.writeRequest(null, List.of(request), requestTimeout.toMillis(), sha256);
        Call call = new Call(version, uri, sha256, request, body, result, new java.util.concurrent.atomic.AtomicInteger(),
                new java.util.concurrent.atomic.AtomicReference<>());
        pending.add(result);
        result.whenComplete((r, e) -> {
            pending.remove(result);
            CompletableFuture<?> exchange = call.exchange().get();
            if (result.isCancelled() && exchange != null) {
                exchange.cancel(true); // the caller gave up: abort the exchange, so the server drops it unscored
            }
        });
        if (closed) {
            result.completeExceptionally(new java.util.concurrent.CancellationException("the scoring client is closed"));
            return result;
        }
        attempt(call, 0);
        return result;
    }

    private record Call(long version, String uri, String sha256, ScoreRequest request, byte[] body,
            CompletableFuture<ScoreResult> result, java.util.concurrent.atomic.AtomicInteger serverErrors,
            java.util.concurrent.atomic.AtomicReference<CompletableFuture<?>> exchange) {
    }

    private void attempt(Call call, int failures) {
        if (call.result().isDone()) {
            return; // the caller gave up
        }
        Endpoint endpoint = choose();
        send(endpoint, call).whenComplete((scores, error) -> {
            if (error == null) {
                endpoint.failures = 0;
                call.result().complete(scores);
                return;
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause()
                    : error;
            if (cause instanceof RejectedRequestException) {
                call.result().completeExceptionally(cause);
                return;
            }
            Duration delay = backoff(failures);
            if (cause instanceof RetryableException r && r.delay != null && r.delay.compareTo(delay) > 0) {
                // The server's Retry-After, jittered like the backoff so that clients do not return in lockstep.
                delay = r.delay.plus(Duration.ofMillis(ThreadLocalRandom.current().nextLong(
                        Math.max(1, retryDelay.toMillis()))));
            }
            if (!(cause instanceof RetryableException r) || r.serverDown) {
                // Refused, failed or down: out for a while that grows while it keeps failing.
                endpoint.downUntilNanos = System.nanoTime() + backoff(endpoint.failures++).toNanos();
                endpoint.upgraded = false; // a restarted server gets its first request without a body again
            }
            retries.incrementAndGet();
            try {
                timer.schedule(() -> attempt(call, failures + 1), delay.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                call.result().completeExceptionally(new java.util.concurrent.CancellationException(
                        "the scoring client is closed"));
            }
        });
    }

    /** The next server in turn that is not out; when all are out, the one back soonest. */
    private Endpoint choose() {
        long now = System.nanoTime();
        int start = Math.floorMod(next.getAndIncrement(), endpoints.size());
        Endpoint soonest = endpoints.get(start);
        for (int i = 0; i < endpoints.size(); i++) {
            Endpoint e = endpoints.get((start + i) % endpoints.size());
            if (e.up(now)) {
                return e;
            }
            if (e.downUntilNanos - soonest.downUntilNanos < 0) {
                soonest = e;
            }
        }
        return soonest;
    }

    private Duration backoff(int failures) {
        long base = Math.min(MAX_BACKOFF.toMillis(), retryDelay.toMillis() << Math.min(failures, 16));
        // Full jitter around the exponential step: clients that failed together do not come back together.
        return Duration.ofMillis(Math.max(1, (long) (base * (0.5 + ThreadLocalRandom.current().nextDouble()))));
    }

    private CompletableFuture<ScoreResult> send(Endpoint endpoint, Call call) {
        return send(endpoint, call, false);
    }

    /** One exchange; a version the server lacks is loaded there once ({@code loaded}: already done this attempt). */
    private CompletableFuture<ScoreResult> send(Endpoint endpoint, Call call, boolean loaded) {
        CompletableFuture<Void> ready = endpoint.upgraded ? CompletableFuture.completedFuture(null)
                : upgrade(endpoint);
        return ready.thenCompose(ignored -> {
            CompletableFuture<HttpResponse<byte[]>> exchange = http.sendAsync(request(endpoint, "/v2/models/"
                    + modelName + "/versions/" + call.version() + "/infer", call.body()),
                    HttpResponse.BodyHandlers.ofByteArray());
            call.exchange().set(exchange);
            return exchange;
        })
                .thenCompose(response -> {
                    int status = response.statusCode();
                    if (status == 200) {
                        try {
                            return CompletableFuture.completedFuture(InferenceJson.parseResponse(response.body(),
                                    List.of(call.request())).get(0));
                        } catch (IOException e) {
                            return CompletableFuture.failedFuture(e);
                        }
                    }
                    String message = endpoint.base + ": " + status + " " + InferenceJson.errorOf(response.body());
                    if (status == 404 && InferenceJson.errorOf(response.body()).contains("is not loaded")) {
                        if (loaded || call.result().isDone()) {
                            // Loaded and gone again (evicted for another version): back off like any busy server.
                            return CompletableFuture.failedFuture(new RetryableException(message, null, false));
                        }
                        return load(endpoint, call).thenCompose(done -> send(endpoint, call, true));
                    }
                    if (status == 429 || status == 504) {
                        return CompletableFuture.failedFuture(new RetryableException(message,
                                retryAfter(response).orElse(null), false));
                    }
                    if (status == 503) {
                        return CompletableFuture.failedFuture(new RetryableException(message,
                                retryAfter(response).orElse(null), true));
                    }
                    if (status == 500 && call.serverErrors().incrementAndGet() < SERVER_ERRORS_PER_REQUEST) {
                        return CompletableFuture.failedFuture(new RetryableException(message, null, false));
                    }
                    // 400, 401, 404 (a version no server can load), 409 (other weights under the version), or 500
                    // every time: trying again cannot help.
                    return CompletableFuture.failedFuture(new RejectedRequestException(message));
                });
    }

    /**
     * A first request without a body on a server: the HTTP client upgrades a cleartext connection to HTTP/2 only on
     * such a request, and later requests share that connection.
     */
    private CompletableFuture<Void> upgrade(Endpoint endpoint) {
        return http.sendAsync(HttpRequest.newBuilder(endpoint.base.resolve("/v2/health/live"))
                .timeout(requestTimeout).GET().build(), HttpResponse.BodyHandlers.discarding()).thenAccept(r -> {
                    endpoint.upgraded = true;
                });
    }

    private CompletableFuture<Void> load(Endpoint endpoint, Call call) {
        loads.incrementAndGet();
        String body = "{\"parameters\": {\"version\": " + call.version() + ", \"uri\": "
                + com.fasterxml.jackson.databind.node.TextNode.valueOf(call.uri()) + ", \"sha256\": \"" + call.sha256()
                + "\"}}";
        return http.sendAsync(request(endpoint, "/v2/repository/models/" + modelName + "/load",
                body.getBytes(StandardCharsets.UTF_8)), HttpResponse.BodyHandlers.ofByteArray()).thenCompose(r -> {
                    if (r.statusCode() == 200) {
                        return CompletableFuture.completedFuture(null);
                    }
                    String message = endpoint.base + " could not load policy version " + call.version() + ": "
                            + r.statusCode() + " " + InferenceJson.errorOf(r.body());
                    return CompletableFuture.failedFuture(r.statusCode() == 400
                            ? new RejectedRequestException(message) : new IOException(message));
                });
    }

    private HttpRequest request(Endpoint endpoint, String path, byte[] body) {
        // A little longer than the deadline the request carries, so that the server's 504 arrives first.
        HttpRequest.Builder builder = HttpRequest.newBuilder(endpoint.base.resolve(path))
                .timeout(requestTimeout.plusSeconds(5))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        return builder.build();
    }

    private static Optional<Duration> retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").filter(v -> v.matches("\\d{1,6}"))
                .map(v -> Duration.ofSeconds(Long.parseLong(v)));
    }

    /** Requests made so far (each counted once, however often it was tried). */
    public long requests() {
        return requests.get();
    }

    /** Tries after a failure, an overload or a server that was down. */
    public long retries() {
        return retries.get();
    }

    /** Versions loaded on a server on this client's request. */
    public long loads() {
        return loads.get();
    }

    /** Servers taken out now. */
    public int serversDown() {
        long now = System.nanoTime();
        return (int) endpoints.stream().filter(e -> !e.up(now)).count();
    }

    /** Stops; requests still waiting for a try fail (nothing is left pending for ever). */
    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        for (CompletableFuture<ScoreResult> f : List.copyOf(pending)) {
            f.completeExceptionally(new java.util.concurrent.CancellationException("the scoring client is closed"));
        }
    }
}
