package io.policylong.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.protocol.InferenceJson;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.scoring.BatchingSettings;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.model.testing.TestCheckpoints;
import io.policylong.policy.CheckpointDigest;
import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.records.PolicyUpdate;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scoring server on loopback, through the JDK's HTTP client: the protocol's endpoints, errors, overload,
 * authentication, concurrent clients and versions, against the same checkpoints scored in this JVM.
 */
class ScoringServerTest {
    /** Batch composition changes float32 sums in the last bits (see ScoringInvarianceTest). */
    private static final float TOLERANCE = 1e-4f;
    private static final int VOCAB = 120;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private static Path v0;
    private static Path v1;
    private static LoadedCheckpoint local0;
    private static LoadedCheckpoint local1;
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void checkpoints() throws Exception {
        v0 = TestCheckpoints.write(dir.resolve("v0"), TestCheckpoints.tinyLlama(VOCAB, false, 2, true,
                new RopeScaling.None()), SafetensorsDType.F32, 0, 3).directory();
        v1 = TestCheckpoints.write(dir.resolve("v1"), TestCheckpoints.tinyLlama(VOCAB, false, 2, true,
                new RopeScaling.None()), SafetensorsDType.F32, 0, 4).directory();
        local0 = LoadedCheckpoint.load(v0, Device.cpu(), ChunkSettings.DEFAULT, 1 << 16);
        local1 = LoadedCheckpoint.load(v1, Device.cpu(), ChunkSettings.DEFAULT, 1 << 16);
    }

    @AfterAll
    static void free() {
        local0.close();
        local1.close();
    }

    private static ServerSettings settings(String token) {
        return new ServerSettings("127.0.0.1", 0, "policylong", token, 1 << 20, 4096, Duration.ofSeconds(60),
                Duration.ofSeconds(30));
    }

    private static ScoringServer server(ServerSettings settings, BatchingSettings batching, Path policies)
            throws Exception {
        return new ScoringServer(settings, new ServedVersions(Device.cpu(), ChunkSettings.DEFAULT, batching, 2,
                policies)).start();
    }

    private static ScoringServer server() throws Exception {
        return server(settings(null), new BatchingSettings(4096, Duration.ofMillis(5), 64), null);
    }

    private record Reply(int status, String body, HttpResponse<String> response) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }
    }

    private static Reply call(ScoringServer server, String method, String path, String body, String token)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(60)).method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        // A client per call: a pooled connection to an earlier test's server could meet a new one on the same port.
        HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(response.statusCode(), response.body(), response);
    }

    private static Reply call(ScoringServer server, String method, String path, String body) throws Exception {
        return call(server, method, path, body, null);
    }

    private static String load(long version, Path checkpoint) throws Exception {
        return "{\"parameters\": {\"version\": " + version + ", \"uri\": \"" + checkpoint.toUri() + "\", \"sha256\": \""
                + CheckpointDigest.weightsSha256(checkpoint) + "\"}}";
    }

    private static List<ScoreResult> infer(ScoringServer server, long version, List<ScoreRequest> sequences)
            throws Exception {
        Reply reply = call(server, "POST", "/v2/models/policylong/versions/" + version + "/infer",
                new String(InferenceJson.writeRequest("r", sequences, 0), StandardCharsets.UTF_8));
        assertEquals(200, reply.status(), reply.body());
        return InferenceJson.parseResponse(reply.body().getBytes(StandardCharsets.UTF_8), sequences);
    }

    private static void assertScoredAsInProcess(LoadedCheckpoint local, ScoreRequest request, ScoreResult remote) {
        ScoreResult expected = local.scorer().score(List.of(request)).get(0);
        assertEquals(expected.size(), remote.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.positions()[i], remote.positions()[i]);
            assertEquals(expected.entropy()[i], remote.entropy()[i], TOLERANCE, "entropy at " + i);
            assertEquals(expected.logprob()[i], remote.logprob()[i], TOLERANCE, "logprob at " + i);
        }
    }

    @Test
    void healthMetadataAndInferWithAndWithoutPositionsAndAsABatch() throws Exception {
        try (ScoringServer server = server()) {
            assertEquals(200, call(server, "GET", "/v2/health/live", null).status());
            assertEquals(200, call(server, "GET", "/v2/health/ready", null).status(), "ready to load versions");
            assertEquals(503, call(server, "GET", "/v2/models/policylong/ready", null).status(), "none loaded yet");
            Reply loaded = call(server, "POST", "/v2/repository/models/policylong/load", load(0, v0));
            assertEquals(200, loaded.status(), loaded.body());
            assertEquals(200, call(server, "GET", "/v2/models/policylong/ready", null).status());
            assertEquals(200, call(server, "GET", "/v2/models/policylong/versions/0/ready", null).status());

            JsonNode model = call(server, "GET", "/v2/models/policylong", null).json();
            assertEquals("0", model.path("versions").get(0).asText());
            JsonNode version = call(server, "GET", "/v2/models/policylong/versions/0", null).json();
            assertEquals(CheckpointDigest.weightsSha256(v0), version.path("sha256").asText());
            assertEquals(VOCAB, version.path("vocab_size").asInt());

            ScoreRequest all = ScoreRequest.allPositions(TestCheckpoints.tokens(57, VOCAB, 1));
            assertScoredAsInProcess(local0, all, infer(server, 0, List.of(all)).get(0));
            ScoreRequest some = new ScoreRequest(TestCheckpoints.tokens(40, VOCAB, 2), new int[] {0, 7, 38});
            assertScoredAsInProcess(local0, some, infer(server, 0, List.of(some)).get(0));
            List<ScoreRequest> batch = List.of(all, some, ScoreRequest.allPositions(TestCheckpoints.tokens(3, VOCAB, 3)));
            List<ScoreResult> results = infer(server, 0, batch);
            for (int i = 0; i < batch.size(); i++) {
                assertScoredAsInProcess(local0, batch.get(i), results.get(i));
            }
            // A [1, n] shape and only one output asked for.
            Reply one = call(server, "POST", "/v2/models/policylong/versions/0/infer", "{\"inputs\": [{\"name\": "
                    + "\"input_ids\", \"datatype\": \"INT64\", \"shape\": [1, 3], \"data\": [[5, 6, 7]]}], "
                    + "\"outputs\": [{\"name\": \"logprob\"}]}");
            assertEquals(200, one.status(), one.body());
            assertEquals(1, one.json().path("outputs").size());
            assertEquals(2, one.json().path("outputs").get(0).path("data").size());
            assertEquals("0", one.json().path("model_version").asText());
        }
    }

    @Test
    void malformedRequestsAre400sNamingTheProblemAndUnknownVersions404() throws Exception {
        try (ScoringServer server = server()) {
            assertEquals(200, call(server, "POST", "/v2/repository/models/policylong/load", load(0, v0)).status());
            String infer = "/v2/models/policylong/versions/0/infer";
            String[][] cases = {
                {"{\"inputs\": [{\"name\": \"input_ids\", \"datatype\": \"FP32\", \"shape\": [2], \"data\": [1, 2]}]}",
                    "datatype must be INT64, not FP32"},
                {"{\"inputs\": [{\"name\": \"input_ids\", \"datatype\": \"INT64\", \"shape\": [3], \"data\": [1, 2]}]}",
                    "shape [3] holds 3 values, but data has 2"},
                {"{\"inputs\": [{\"name\": \"input_ids\", \"datatype\": \"INT64\", \"shape\": [2], \"data\": [1, 500]}]}",
                    "input_ids[1] = 500 is outside the vocabulary [0, 120)"},
                {"{\"inputs\": [{\"name\": \"input_ids\", \"datatype\": \"INT64\", \"data\": [1, 2]}]}",
                    "missing field \"shape\""},
                {"{}", "missing field \"inputs\""},
                {"{\"inputs\": [{\"name\": \"input_ids\", \"datatype\": \"INT64\", \"shape\": [5000], \"data\": "
                    + zeros(5000) + "}]}", "5000 tokens, more than this server's limit of 4096"},
                {"{\"inputs\": [{\"name\": \"input_ids\", \"datatype\": \"INT64\", \"shape\": [3], \"data\": [1, 2, 3]},"
                    + " {\"name\": \"positions\", \"datatype\": \"INT64\", \"shape\": [1], \"data\": [2]}]}",
                    "position 2 is outside [0, 1]"},
                {"{\"inputs\": [{\"name\": \"input_ids\", \"datatype\": \"INT64\", \"shape\": [3], \"data\": [1, 2, 3]},"
                    + " {\"name\": \"lengths\", \"datatype\": \"INT64\", \"shape\": [2], \"data\": [1, 1]}]}",
                    "lengths add up to 2, but input_ids has 3 tokens"},
                {"not json", "the body is not JSON"},
                {"{\"inputs\": [{\"name\": \"input_ids\", \"datatype\": \"INT64\", \"shape\": [3], \"data\": [1, 2, 3]},"
                    + " {\"name\": \"lengths\", \"datatype\": \"INT64\", \"shape\": [2], \"data\": [1, 9223372036854775807]}]}",
                    "lengths add up to more than the 3 tokens"},
            };
            for (String[] c : cases) {
                Reply reply = call(server, "POST", infer, c[0]);
                assertEquals(400, reply.status(), c[1] + ": " + reply.body());
                assertTrue(reply.json().path("error").asText().contains(c[1]), reply.body());
            }
            Reply oversize = call(server, "POST", infer, "{\"inputs\": [], \"pad\": \"" + "x".repeat(1 << 20) + "\"}");
            assertEquals(400, oversize.status(), oversize.body());
            assertTrue(oversize.json().path("error").asText().contains("larger than 1048576 bytes"), oversize.body());

            Reply unknown = call(server, "POST", "/v2/models/policylong/versions/7/infer", "{}");
            assertEquals(404, unknown.status());
            assertTrue(unknown.json().path("error").asText().contains("policy version 7 is not loaded"), unknown.body());
            assertEquals(404, call(server, "POST", "/v2/models/other/versions/0/infer", "{}").status());
            assertEquals(400, call(server, "POST", "/v2/models/policylong/versions/x/infer", "{}").status());
            Reply wrongDigest = call(server, "POST", "/v2/repository/models/policylong/load", "{\"parameters\": "
                    + "{\"version\": 3, \"uri\": \"" + v1.toUri() + "\", \"sha256\": \"" + "0".repeat(64) + "\"}}");
            assertEquals(400, wrongDigest.status());
            assertTrue(wrongDigest.json().path("error").asText().contains("not the announced"), wrongDigest.body());
            String metrics = call(server, "GET", "/metrics", null).body();
            assertTrue(metrics.contains("policylong_serve_requests_total{outcome=\"bad_request\"} 12.0"), metrics);
            assertTrue(metrics.contains("policylong_serve_requests_total{outcome=\"not_found\"} 1.0"), metrics);
        }
    }

    private static String zeros(int n) {
        return "[" + String.join(",", java.util.Collections.nCopies(n, "0")) + "]";
    }

    @Test
    void aVersionJustLoadedIsNeverTheOneEvictedAndOtherWeightsUnderAVersionAreRefused() throws Exception {
        try (ScoringServer server = server()) {
            // Two resident (the limit), then a lower version: the old code evicted that one at once, so a client
            // that had it loaded for its request found it gone, and loaded it again, and again.
            assertEquals(200, call(server, "POST", "/v2/repository/models/policylong/load", load(6, v0)).status());
            assertEquals(200, call(server, "POST", "/v2/repository/models/policylong/load", load(7, v1)).status());
            assertEquals(200, call(server, "POST", "/v2/repository/models/policylong/load", load(5, v1)).status());
            ScoreRequest request = ScoreRequest.allPositions(TestCheckpoints.tokens(12, VOCAB, 1));
            assertScoredAsInProcess(local1, request, infer(server, 5, List.of(request)).get(0));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (call(server, "GET", "/v2/models/policylong/versions/6", null).status() != 404
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(404, call(server, "GET", "/v2/models/policylong/versions/6", null).status(),
                    "the lowest other version made room");

            String wrongWeights = new String(InferenceJson.writeRequest(null, List.of(request), 0,
                    CheckpointDigest.weightsSha256(v0)), StandardCharsets.UTF_8);
            Reply conflict = call(server, "POST", "/v2/models/policylong/versions/5/infer", wrongWeights);
            assertEquals(409, conflict.status(), conflict.body());
            assertTrue(conflict.json().path("error").asText().contains("is served with weights"), conflict.body());
            String rightWeights = new String(InferenceJson.writeRequest(null, List.of(request), 0,
                    CheckpointDigest.weightsSha256(v1)), StandardCharsets.UTF_8);
            assertEquals(200, call(server, "POST", "/v2/models/policylong/versions/5/infer", rightWeights).status());
        }
    }

    @Test
    void aFullQueueAnswers429WithRetryAfterAndEveryOtherClientItsScores() throws Exception {
        try (ScoringServer server = server(settings(null), new BatchingSettings(600, Duration.ofMillis(50), 1), null)) {
            assertEquals(200, call(server, "POST", "/v2/repository/models/policylong/load", load(0, v0)).status());
            ExecutorService clients = Executors.newFixedThreadPool(32);
            try {
                List<Future<Reply>> replies = new ArrayList<>();
                ScoreRequest request = ScoreRequest.allPositions(TestCheckpoints.tokens(500, VOCAB, 9));
                String body = new String(InferenceJson.writeRequest(null, List.of(request), 0), StandardCharsets.UTF_8);
                for (int i = 0; i < 32; i++) {
                    replies.add(clients.submit(() -> call(server, "POST", "/v2/models/policylong/versions/0/infer",
                            body)));
                }
                int overloaded = 0;
                for (Future<Reply> f : replies) {
                    Reply reply = f.get();
                    if (reply.status() == 429) {
                        overloaded++;
                        assertEquals("1", reply.response().headers().firstValue("Retry-After").orElse(null));
                    } else {
                        assertEquals(200, reply.status(), reply.body());
                        assertScoredAsInProcess(local0, request, InferenceJson.parseResponse(
                                reply.body().getBytes(StandardCharsets.UTF_8), List.of(request)).get(0));
                    }
                }
                assertTrue(overloaded > 0, "32 clients at once overflow a queue of one");
                assertTrue(overloaded < 32, "some got through");
                assertEquals(overloaded, server.metrics().count(ServerMetrics.Outcome.OVERLOADED));
            } finally {
                clients.shutdownNow();
            }
        }
    }

    @Test
    void withATokenOnlyHealthAndMetricsAreOpen() throws Exception {
        try (ScoringServer server = server(settings("s3cret"), BatchingSettings.DEFAULT, null)) {
            Reply refused = call(server, "POST", "/v2/repository/models/policylong/load", load(0, v0));
            assertEquals(401, refused.status());
            assertEquals("Bearer", refused.response().headers().firstValue("WWW-Authenticate").orElse(null));
            assertEquals(401, call(server, "POST", "/v2/repository/models/policylong/load", load(0, v0), "wrong")
                    .status());
            assertEquals(200, call(server, "POST", "/v2/repository/models/policylong/load", load(0, v0), "s3cret")
                    .status());
            assertEquals(401, call(server, "GET", "/v2/models/policylong", null).status());
            assertEquals(200, call(server, "GET", "/v2/models/policylong", null, "s3cret").status());
            assertEquals(200, call(server, "GET", "/v2/health/ready", null).status());
            assertEquals(200, call(server, "GET", "/metrics", null).status());
        }
    }

    @Test
    void manyClientsOverHttp2AndTwoVersionsAtOnceEachScoredByItsOwnCheckpoint() throws Exception {
        try (ScoringServer server = server()) {
            assertEquals(200, call(server, "POST", "/v2/repository/models/policylong/load", load(0, v0)).status());
            assertEquals(200, call(server, "POST", "/v2/repository/models/policylong/load", load(1, v1)).status());
            HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
            // Cleartext HTTP/2 starts with an upgrade of a request without a body; the rest share that connection.
            HttpResponse<String> upgraded = h2.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.port() + "/v2/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, upgraded.version());
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int i = 0; i < 48; i++) {
                long version = i % 2;
                ScoreRequest request = i % 3 == 0 ? new ScoreRequest(TestCheckpoints.tokens(30 + i, VOCAB, i),
                        new int[] {1, 5, 20}) : ScoreRequest.allPositions(TestCheckpoints.tokens(10 + 3 * i, VOCAB, i));
                HttpRequest post = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                        + "/v2/models/policylong/versions/" + version + "/infer")).POST(HttpRequest.BodyPublishers
                        .ofByteArray(InferenceJson.writeRequest(null, List.of(request), 0))).build();
                all.add(h2.sendAsync(post, HttpResponse.BodyHandlers.ofByteArray()).thenAccept(response -> {
                    assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
                    assertEquals(HttpClient.Version.HTTP_2, response.version());
                    try {
                        assertScoredAsInProcess(version == 0 ? local0 : local1, request,
                                InferenceJson.parseResponse(response.body(), List.of(request)).get(0));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get();
            ScoreRequest same = ScoreRequest.allPositions(TestCheckpoints.tokens(20, VOCAB, 5));
            assertTrue(infer(server, 0, List.of(same)).get(0).entropy()[3]
                    != infer(server, 1, List.of(same)).get(0).entropy()[3], "two different checkpoints");
            String metrics = call(server, "GET", "/metrics", null).body();
            assertTrue(metrics.contains("policylong_serve_resident_versions 2.0"), metrics);
            assertTrue(metrics.contains("policylong_serve_load_seconds{version=\"1\"}"), metrics);
            assertTrue(metrics.contains("policylong_serve_batch_tokens_count"), metrics);
        }
    }

    @Test
    void aVersionRequestedWhileItLoadsOnDemandIsLoadedOnceForEveryone() throws Exception {
        Path policies = Files.createDirectories(dir.resolve("policies"));
        PolicyDescriptorFiles.write(policies, new PolicyUpdate(5, v1.toUri().toString(),
                CheckpointDigest.weightsSha256(v1), 10L, Instant.now(), "test"));
        try (ScoringServer server = server(settings(null), BatchingSettings.DEFAULT, policies)) {
            ExecutorService clients = Executors.newFixedThreadPool(8);
            try {
                List<Future<List<ScoreResult>>> results = new ArrayList<>();
                ScoreRequest request = ScoreRequest.allPositions(TestCheckpoints.tokens(33, VOCAB, 8));
                for (int i = 0; i < 8; i++) {
                    results.add(clients.submit(() -> infer(server, 5, List.of(request))));
                }
                for (Future<List<ScoreResult>> r : results) {
                    assertScoredAsInProcess(local1, request, r.get().get(0));
                }
            } finally {
                clients.shutdownNow();
            }
            String metrics = call(server, "GET", "/metrics", null).body();
            assertTrue(metrics.contains("policylong_serve_resident_versions 1.0"), metrics);
            Reply missing = call(server, "POST", "/v2/models/policylong/versions/6/infer", "{}");
            assertEquals(404, missing.status());
            assertTrue(missing.json().path("error").asText().contains("has no descriptor of it"), missing.body());
        }
    }

    @Test
    void stoppingAnswersEveryAcceptedRequestThenRefusesConnections() throws Exception {
        ScoringServer server = server(settings(null), new BatchingSettings(1024, Duration.ofMillis(100), 256), null);
        int port = server.port();
        assertEquals(200, call(server, "POST", "/v2/repository/models/policylong/load", load(0, v0)).status());
        ExecutorService clients = Executors.newFixedThreadPool(16);
        try {
            List<Future<Reply>> replies = new ArrayList<>();
            ScoreRequest request = ScoreRequest.allPositions(TestCheckpoints.tokens(1000, VOCAB, 4));
            String body = new String(InferenceJson.writeRequest(null, List.of(request), 0), StandardCharsets.UTF_8);
            for (int i = 0; i < 16; i++) {
                replies.add(clients.submit(() -> call(server, "POST", "/v2/models/policylong/versions/0/infer", body)));
            }
            // Once all 16 are accepted (in flight or answered), stop: every one of them is answered with its scores.
            while (server.metrics().count(ServerMetrics.Outcome.OK) + server.inFlight() < 16) {
                Thread.sleep(2);
            }
            server.stop();
            for (Future<Reply> f : replies) {
                Reply reply = f.get();
                assertEquals(200, reply.status(), reply.body());
            }
            assertEquals(16, server.metrics().count(ServerMetrics.Outcome.OK));
            org.junit.jupiter.api.Assertions.assertThrows(java.net.ConnectException.class, () -> CLIENT.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/health/live")).build(),
                    HttpResponse.BodyHandlers.ofString()), "no longer listening");
            assertEquals(0, server.metrics().count(ServerMetrics.Outcome.CANCELLED), "nothing accepted is dropped");
            assertEquals(0, server.metrics().count(ServerMetrics.Outcome.FAILED));
        } finally {
            clients.shutdownNow();
        }
    }
}
