package io.policylong.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.policylong.model.protocol.InferenceJson;
import io.policylong.model.protocol.InvalidInferenceRequestException;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.serving.ServerMetrics.Outcome;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The scoring server: policy versions served over HTTP/1.1 and cleartext HTTP/2 (Jetty) following the Open Inference
 * Protocol v2 — health, server and model metadata, {@code infer} per policy version, and the model repository
 * extension (load, unload, index) — with Prometheus metrics at {@code /metrics}. Requests of every client share one
 * micro-batcher per version; a full queue answers {@code 429} with {@code Retry-After} instead of holding the
 * connection, and a request whose client gave up (deadline passed, connection closed) is dropped before it is
 * scored. {@link #stop} drains: it stops accepting, answers what it accepted, then frees the versions.
 */
public final class ScoringServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JSON_TYPE = "application/json";
    private static final Pattern MODEL = Pattern.compile("/v2/models/([^/]+)(?:/versions/([^/]+))?(/infer|/ready)?");
    private static final Pattern REPOSITORY = Pattern.compile("/v2/repository/models/([^/]+)/(load|unload)");

    private final ServerSettings settings;
    private final ServedVersions versions;
    private final ServerMetrics metrics;
    private final Server server;
    private final ServerConnector connector;
    private volatile boolean draining;
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();

    /** A server for these versions; {@link #start} opens it. */
    public ScoringServer(ServerSettings settings, ServedVersions versions) {
        this.settings = settings;
        this.versions = versions;
        this.metrics = new ServerMetrics(versions::queued, () -> versions.loaded().size());
        versions.reportTo(metrics);
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("scoring-http");
        this.server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        this.connector = new ServerConnector(server, new HttpConnectionFactory(http),
                new HTTP2CServerConnectionFactory(http));
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        // A connection waits without I/O while its request is queued and scored: it must outlast the request timeout
        // (Jetty's default of 30 s would fail a long one).
        connector.setIdleTimeout(settings.requestTimeout().toMillis() + 30_000);
        server.addConnector(connector);
        GracefulHandler graceful = new GracefulHandler(new Routes());
        server.setHandler(graceful);
        server.setStopTimeout(Math.max(1, settings.drain().toMillis()));
    }

    /** Starts listening. */
    public ScoringServer start() throws Exception {
        server.start();
        return this;
    }

    /** The port it listens on. */
    public int port() {
        return connector.getLocalPort();
    }

    /** Inference requests accepted and not answered yet. */
    public int inFlight() {
        return inFlight.get();
    }

    /** The metrics (tests and the command's summary). */
    public ServerMetrics metrics() {
        return metrics;
    }

    /**
     * Drains and stops: readiness turns false, new requests are refused, accepted ones are answered (up to the
     * drain time), then every version is freed.
     */
    public void stop() throws Exception {
        draining = true;
        // Answer what was accepted before closing connections (Jetty's own graceful stop would fail requests that
        // wait longer than its shutdown idle timeout).
        long deadline = System.nanoTime() + settings.drain().toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        try {
            server.stop();
        } finally {
            versions.close();
        }
    }

    @Override
    public void close() throws Exception {
        stop();
    }

    /** The routes of the protocol. */
    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            long start = System.nanoTime();
            String path = request.getHttpURI().getPath();
            String method = request.getMethod();
            try {
                if (path.equals("/v2/health/live")) {
                    return send(response, callback, 200, object().put("live", true));
                }
                if (path.equals("/v2/health/ready")) {
                    // Ready to take requests: versions load on request, so a server with none loaded yet is ready
                    // (behind a Service, it would otherwise never get the request that loads one).
                    boolean ready = !draining;
                    return send(response, callback, ready ? 200 : 503, object().put("ready", ready));
                }
                if (path.equals("/metrics")) {
                    byte[] body = metrics.scrape();
                    response.setStatus(200);
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, ServerMetrics.contentType());
                    response.write(true, ByteBuffer.wrap(body), callback);
                    return true;
                }
                if (!authorized(request)) {
                    response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
                    metrics.request(Outcome.UNAUTHORIZED, seconds(start));
                    return error(response, callback, 401, "a bearer token is required (Authorization: Bearer ...)");
                }
                if (path.equals("/v2") && method.equals("GET")) {
                    ObjectNode meta = object().put("name", "policylong").put("version", "v2");
                    meta.putArray("extensions").add("model_repository");
                    return send(response, callback, 200, meta);
                }
                if (path.equals("/v2/repository/index") && method.equals("POST")) {
                    ArrayNode index = JSON.createArrayNode();
                    for (ServedVersions.Served s : versions.loaded()) {
                        index.addObject().put("name", settings.modelName()).put("version", String.valueOf(s.version()))
                                .put("state", "READY");
                    }
                    return send(response, callback, 200, index);
                }
                Matcher repository = REPOSITORY.matcher(path);
                if (repository.matches() && method.equals("POST")) {
                    if (!knownModel(repository.group(1), response, callback)) {
                        return true;
                    }
                    body(request, response, callback, start, bytes -> repository(repository.group(2), bytes,
                            response, callback));
                    return true;
                }
                Matcher model = MODEL.matcher(path);
                if (model.matches()) {
                    if (!knownModel(model.group(1), response, callback)) {
                        return true;
                    }
                    String suffix = model.group(3);
                    if ("/infer".equals(suffix) && method.equals("POST")) {
                        // Counted before anything else, so that a stop that has begun waits for it or refused it.
                        inFlight.incrementAndGet();
                        Callback tracked = new Callback.Nested(callback) {
                            @Override
                            public void succeeded() {
                                inFlight.decrementAndGet();
                                super.succeeded();
                            }

                            @Override
                            public void failed(Throwable x) {
                                inFlight.decrementAndGet();
                                super.failed(x);
                            }
                        };
                        if (draining) {
                            response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
                            response.getHeaders().put(HttpHeader.CONNECTION, "close");
                            fail(response, tracked, start, Outcome.UNAVAILABLE, 503, "the server is shutting down; "
                                    + "retry on another");
                            return true;
                        }
                        guarded(response, tracked, start, () -> infer(request, response, tracked, model.group(2),
                                start));
                        return true;
                    }
                    if (method.equals("GET")) {
                        return metadata(response, callback, model.group(2), "/ready".equals(suffix));
                    }
                }
                return error(response, callback, 404, "no such endpoint: " + method + " " + path);
            } catch (Exception e) {
                metrics.request(Outcome.FAILED, seconds(start));
                return error(response, callback, 500, e.toString());
            }
        }

        private boolean knownModel(String name, Response response, Callback callback) {
            if (name.equals(settings.modelName())) {
                return true;
            }
            error(response, callback, 404, "unknown model " + name + " (this server serves " + settings.modelName()
                    + ")");
            return false;
        }

        private boolean authorized(Request request) {
            if (settings.token() == null) {
                return true;
            }
            String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
            String expected = "Bearer " + settings.token();
            return header != null && MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8),
                    expected.getBytes(StandardCharsets.UTF_8));
        }

        private boolean metadata(Response response, Callback callback, String version, boolean readiness) {
            List<ServedVersions.Served> loaded = versions.loaded();
            if (version == null) {
                if (readiness) {
                    return send(response, callback, loaded.isEmpty() ? 503 : 200, object().put("name",
                            settings.modelName()).put("ready", !loaded.isEmpty()));
                }
                ObjectNode meta = object().put("name", settings.modelName()).put("platform", "policylong");
                ArrayNode list = meta.putArray("versions");
                loaded.forEach(s -> list.add(String.valueOf(s.version())));
                describeTensors(meta);
                return send(response, callback, 200, meta);
            }
            for (ServedVersions.Served s : loaded) {
                if (String.valueOf(s.version()).equals(version)) {
                    if (readiness) {
                        return send(response, callback, 200, object().put("name", settings.modelName())
                                .put("ready", true));
                    }
                    ObjectNode meta = object().put("name", settings.modelName()).put("platform", "policylong");
                    meta.putArray("versions").add(version);
                    meta.put("uri", s.uri()).put("sha256", s.sha256()).put("load_seconds", s.loadSeconds());
                    meta.put("architecture", s.checkpoint().config().architecture().className())
                            .put("vocab_size", s.checkpoint().config().vocabSize());
                    describeTensors(meta);
                    return send(response, callback, 200, meta);
                }
            }
            return error(response, callback, 404, "policy version " + version + " is not loaded");
        }

        private void describeTensors(ObjectNode meta) {
            ArrayNode inputs = meta.putArray("inputs");
            for (String name : List.of("input_ids", "lengths", "positions", "position_counts")) {
                inputs.addObject().put("name", name).put("datatype", "INT64").putArray("shape").add(-1);
            }
            ArrayNode outputs = meta.putArray("outputs");
            for (String name : InferenceJson.OUTPUTS) {
                outputs.addObject().put("name", name).put("datatype", "FP32").putArray("shape").add(-1);
            }
        }

        private void repository(String action, byte[] body, Response response, Callback callback) {
            JsonNode parameters;
            try {
                parameters = JSON.readTree(body).path("parameters");
            } catch (Exception e) {
                error(response, callback, 400, "the body is not JSON: " + e.getMessage());
                return;
            }
            JsonNode version = parameters.get("version");
            if (version == null || !(version.canConvertToLong() || version.isTextual() && version.asText()
                    .matches("\\d+"))) {
                error(response, callback, 400, "parameters.version (a policy version number) is required");
                return;
            }
            long v = version.asLong();
            if (action.equals("unload")) {
                if (versions.unload(v)) {
                    send(response, callback, 200, object().put("unloaded", v));
                } else {
                    error(response, callback, 404, "policy version " + v + " is not loaded");
                }
                return;
            }
            String uri = parameters.path("uri").asText(null);
            String sha256 = parameters.path("sha256").asText(null);
            if (uri == null || sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
                error(response, callback, 400, "parameters.uri (the checkpoint) and parameters.sha256 (64 lowercase hex "
                        + "digits: its weights' digest, as the policy descriptor gives it) are required");
                return;
            }
            CompletableFuture<ServedVersions.Served> loading;
            try {
                loading = versions.load(v, uri, sha256);
            } catch (IllegalArgumentException e) {
                error(response, callback, 400, e.getMessage());
                return;
            }
            loading.whenComplete((served, failure) -> {
                if (failure != null) {
                    error(response, callback, 400, cause(failure).getMessage());
                } else {
                    send(response, callback, 200, object().put("loaded", v).put("load_seconds", served.loadSeconds()));
                }
            });
        }

        private void infer(Request request, Response response, Callback callback, String versionText, long start) {
            long version;
            if (versionText == null) {
                List<ServedVersions.Served> loaded = versions.loaded();
                if (loaded.isEmpty()) {
                    fail(response, callback, start, Outcome.NOT_FOUND, 404, "no policy version is loaded");
                    return;
                }
                version = loaded.get(loaded.size() - 1).version();
            } else if (versionText.matches("\\d{1,18}")) {
                version = Long.parseLong(versionText);
            } else {
                fail(response, callback, start, Outcome.BAD_REQUEST, 400, "the version must be a policy version "
                        + "number, not " + versionText);
                return;
            }
            CompletableFuture<ServedVersions.Served> served;
            try {
                served = versions.get(version);
            } catch (ServedVersions.UnknownVersionException e) {
                fail(response, callback, start, Outcome.NOT_FOUND, 404, e.getMessage());
                return;
            } catch (IllegalArgumentException e) {
                // A descriptor naming a checkpoint this server cannot load (not local, say).
                fail(response, callback, start, Outcome.BAD_REQUEST, 400, "policy version " + version + " could not "
                        + "be loaded: " + e.getMessage());
                return;
            }
            body(request, response, callback, start, bytes -> served.whenComplete((s, failure) -> guarded(response,
                    callback, start, () -> {
                        if (failure == null) {
                            score(request, response, callback, s, bytes, start);
                        } else if (cause(failure) instanceof IllegalArgumentException) {
                            fail(response, callback, start, Outcome.BAD_REQUEST, 400, "policy version " + version
                                    + " could not be loaded: " + cause(failure).getMessage());
                        } else {
                            response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
                            fail(response, callback, start, Outcome.UNAVAILABLE, 503, "policy version " + version
                                    + " could not be loaded here: " + cause(failure).getMessage());
                        }
                    })));
        }

        private void score(Request request, Response response, Callback callback, ServedVersions.Served served,
                byte[] body, long start) {
            InferenceJson.Request parsed;
            try {
                parsed = InferenceJson.parseRequest(body, served.checkpoint().config().vocabSize(),
                        settings.maxRequestTokens());
            } catch (InvalidInferenceRequestException e) {
                fail(response, callback, start, Outcome.BAD_REQUEST, 400, e.getMessage());
                return;
            }
            if (parsed.sha256() != null && !parsed.sha256().equals(served.sha256())) {
                fail(response, callback, start, Outcome.CONFLICT, 409, "policy version " + served.version()
                        + " is served with weights " + served.sha256() + ", not the " + parsed.sha256() + " asked for");
                return;
            }
            List<CompletableFuture<ScoreResult>> futures = new ArrayList<>();
            try {
                for (var sequence : parsed.sequences()) {
                    CompletableFuture<ScoreResult> f = served.batcher().submitIfRoom(sequence);
                    if (f == null) {
                        futures.forEach(g -> g.cancel(false));
                        response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
                        fail(response, callback, start, Outcome.OVERLOADED, 429, "the queue of policy version "
                                + served.version() + " is full; retry later");
                        return;
                    }
                    futures.add(f);
                    if (f.isCompletedExceptionally()) {
                        break; // it failed validation: no need to queue the rest
                    }
                }
            } catch (RejectedExecutionException e) {
                futures.forEach(g -> g.cancel(false));
                response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
                fail(response, callback, start, Outcome.UNAVAILABLE, 503, "policy version " + served.version()
                        + " is being unloaded; retry later");
                return;
            }
            // A client that goes away gives its requests up: the batcher drops them unscored.
            request.addFailureListener(t -> futures.forEach(f -> f.completeExceptionally(
                    new CancellationException("the client went away (" + t + ")"))));
            long timeout = parsed.timeoutMillis() > 0 ? parsed.timeoutMillis() : settings.requestTimeout().toMillis();
            // The answer is written on the server's threads, not on the batcher's (which would hold up the next batch).
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).orTimeout(timeout, TimeUnit.MILLISECONDS)
                    .whenCompleteAsync((ignored, failure) -> guarded(response, callback, start, () -> {
                        if (failure == null) {
                            List<ScoreResult> results = futures.stream().map(CompletableFuture::join).toList();
                            byte[] bytes = InferenceJson.writeResponse(settings.modelName(), served.version(), parsed,
                                    results);
                            metrics.request(Outcome.OK, seconds(start));
                            write(response, callback, 200, bytes);
                            return;
                        }
                        futures.forEach(f -> f.cancel(false));
                        Throwable cause = cause(failure);
                        if (cause instanceof TimeoutException) {
                            fail(response, callback, start, Outcome.TIMED_OUT, 504, "not scored within " + timeout
                                    + " ms");
                        } else if (cause instanceof IllegalArgumentException) {
                            fail(response, callback, start, Outcome.BAD_REQUEST, 400, cause.getMessage());
                        } else if (cause instanceof CancellationException) {
                            fail(response, callback, start, Outcome.CANCELLED, 503, "the request was given up before "
                                    + "it was scored: " + cause.getMessage());
                        } else {
                            fail(response, callback, start, Outcome.FAILED, 500, String.valueOf(cause.getMessage()));
                        }
                    }), server.getThreadPool());
        }

        /** Reads the body (up to the limit) and hands it on; an oversize body is a 400. */
        private void body(Request request, Response response, Callback callback, long start,
                java.util.function.Consumer<byte[]> then) {
            if (request.getLength() > settings.maxRequestBytes()) {
                fail(response, callback, start, Outcome.BAD_REQUEST, 400, "the body has " + request.getLength()
                        + " bytes, larger than " + settings.maxRequestBytes() + " bytes");
                return;
            }
            Content.Source.asByteArrayAsync(request, (int) Math.min(Integer.MAX_VALUE - 8, settings.maxRequestBytes()))
                    .whenComplete((bytes, failure) -> {
                        if (failure != null) {
                            fail(response, callback, start, Outcome.BAD_REQUEST, 400, "the body could not be read "
                                    + "(larger than " + settings.maxRequestBytes() + " bytes?): "
                                    + cause(failure).getMessage());
                        } else {
                            then.accept(bytes);
                        }
                    });
        }

        /** Runs a step of a request; whatever it throws is the request's 500 (a request is never left unanswered). */
        private void guarded(Response response, Callback callback, long start, Runnable step) {
            try {
                step.run();
            } catch (RuntimeException | Error e) {
                fail(response, callback, start, Outcome.FAILED, 500, e.toString());
            }
        }

        private void fail(Response response, Callback callback, long start, Outcome outcome, int status,
                String message) {
            metrics.request(outcome, seconds(start));
            error(response, callback, status, message);
        }
    }

    private static ObjectNode object() {
        return JSON.createObjectNode();
    }

    private static boolean send(Response response, Callback callback, int status, JsonNode body) {
        try {
            write(response, callback, status, JSON.writeValueAsBytes(body));
        } catch (java.io.IOException e) {
            callback.failed(e);
        }
        return true;
    }

    private static boolean error(Response response, Callback callback, int status, String message) {
        write(response, callback, status, InferenceJson.error(message));
        return true;
    }

    private static void write(Response response, Callback callback, int status, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_TYPE);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    private static Throwable cause(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof java.util.concurrent.ExecutionException)
                && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
