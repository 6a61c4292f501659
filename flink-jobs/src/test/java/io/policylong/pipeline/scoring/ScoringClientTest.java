package io.policylong.pipeline.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.scoring.BatchingSettings;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.model.testing.TestCheckpoints;
import io.policylong.policy.CheckpointDigest;
import io.policylong.serving.ScoringServer;
import io.policylong.serving.ServedVersions;
import io.policylong.serving.ServerMetrics;
import io.policylong.serving.ServerSettings;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job's client of scoring servers against real servers on loopback: scores equal to in-process scoring, spread
 * over the servers, a version a server lacks loaded there, a server that goes away or is not up yet waited out
 * without losing a request, a wrong request failed at once.
 */
class ScoringClientTest {
    private static final float TOLERANCE = 1e-4f;
    private static final int VOCAB = 120;

    @TempDir
    static Path dir;

    private static Path checkpoint;
    private static String sha256;
    private static LoadedCheckpoint local;

    @BeforeAll
    static void setUp() throws Exception {
        checkpoint = TestCheckpoints.write(dir.resolve("v0"), TestCheckpoints.tinyLlama(VOCAB, false, 2, true,
                new RopeScaling.None()), SafetensorsDType.F32, 0, 3).directory();
        sha256 = CheckpointDigest.weightsSha256(checkpoint);
        local = LoadedCheckpoint.load(checkpoint, Device.cpu(), ChunkSettings.DEFAULT, 1 << 16);
    }

    @AfterAll
    static void tearDown() {
        local.close();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** A server on the port, holding nothing: the client loads the version there. */
    private static ScoringServer server(int port) throws Exception {
        return new ScoringServer(new ServerSettings("127.0.0.1", port, "policylong", null, 1 << 20, 8192,
                Duration.ofSeconds(60), Duration.ofSeconds(10)), new ServedVersions(Device.cpu(), ChunkSettings.DEFAULT,
                new BatchingSettings(4096, Duration.ofMillis(2), 64), 2, null)).start();
    }

    private static ScoringClient client(int... ports) {
        List<String> urls = new ArrayList<>();
        for (int p : ports) {
            urls.add("http://127.0.0.1:" + p);
        }
        return new ScoringClient(urls, "policylong", Duration.ofSeconds(30), null, Duration.ofMillis(100));
    }

    private static ScoreRequest request(int i) {
        return i % 2 == 0 ? ScoreRequest.allPositions(TestCheckpoints.tokens(20 + i, VOCAB, i))
                : new ScoreRequest(TestCheckpoints.tokens(40, VOCAB, i), new int[] {3, 17, 38});
    }

    private static void assertAsInProcess(ScoreRequest request, ScoreResult remote) {
        ScoreResult expected = local.scorer().score(List.of(request)).get(0);
        assertEquals(expected.size(), remote.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.positions()[i], remote.positions()[i]);
            assertEquals(expected.entropy()[i], remote.entropy()[i], TOLERANCE);
            assertEquals(expected.logprob()[i], remote.logprob()[i], TOLERANCE);
        }
    }

    @Test
    void requestsAreSpreadOverTheServersWhichLoadTheVersionOnFirstUse() throws Exception {
        int a = freePort();
        int b = freePort();
        try (ScoringServer first = server(a); ScoringServer second = server(b); ScoringClient client = client(a, b)) {
            List<CompletableFuture<ScoreResult>> futures = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                futures.add(client.score(0, checkpoint.toUri().toString(), sha256, request(i)));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertAsInProcess(request(i), futures.get(i).get(60, TimeUnit.SECONDS));
            }
            assertTrue(first.metrics().count(ServerMetrics.Outcome.OK) > 0);
            assertTrue(second.metrics().count(ServerMetrics.Outcome.OK) > 0);
            assertEquals(24, first.metrics().count(ServerMetrics.Outcome.OK)
                    + second.metrics().count(ServerMetrics.Outcome.OK), "each request answered once");
            assertTrue(client.loads() >= 2, "each server loaded version 0 on the client's request");
        }
    }

    @Test
    void aServerThatGoesAwayIsTakenOutAndItsRequestsGoToTheOther() throws Exception {
        int a = freePort();
        int b = freePort();
        try (ScoringServer survivor = server(b); ScoringClient client = client(a, b)) {
            ScoringServer doomed = server(a);
            client.score(0, checkpoint.toUri().toString(), sha256, request(0)).get(60, TimeUnit.SECONDS);
            doomed.stop();
            List<CompletableFuture<ScoreResult>> futures = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                futures.add(client.score(0, checkpoint.toUri().toString(), sha256, request(i)));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertAsInProcess(request(i), futures.get(i).get(60, TimeUnit.SECONDS));
            }
            assertTrue(client.retries() >= 1, "a request met the stopped server and went on");
        }
    }

    @Test
    void withNoServerUpRequestsWaitAndAreAnsweredOnceOneStarts() throws Exception {
        int a = freePort();
        try (ScoringClient client = client(a)) {
            CompletableFuture<ScoreResult> waiting = client.score(0, checkpoint.toUri().toString(), sha256, request(1));
            Thread.sleep(1500);
            assertFalse(waiting.isDone(), "nothing to answer it yet, and nothing lost");
            assertTrue(client.retries() >= 2, "it keeps trying: " + client.retries());
            try (ScoringServer late = server(a)) {
                assertAsInProcess(request(1), waiting.get(60, TimeUnit.SECONDS));
            }
            CompletableFuture<ScoreResult> givenUp = client.score(0, checkpoint.toUri().toString(), sha256, request(2));
            givenUp.cancel(false);
            long retries = client.retries();
            Thread.sleep(1000);
            assertTrue(client.retries() - retries <= 1, "a request the caller gave up is not tried on and on");
        }
    }

    @Test
    void aRequestTheServerRejectsFailsAtOnce() throws Exception {
        int a = freePort();
        try (ScoringServer server = server(a); ScoringClient client = client(a)) {
            CompletableFuture<ScoreResult> wrong = client.score(0, checkpoint.toUri().toString(), sha256,
                    ScoreRequest.allPositions(new long[] {1, 2, 999}));
            ExecutionException e = assertThrows(ExecutionException.class, () -> wrong.get(60, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof ScoringClient.RejectedRequestException, e.toString());
            assertTrue(e.getCause().getMessage().contains("outside the vocabulary"), e.getCause().getMessage());
            CompletableFuture<ScoreResult> badDigest = client.score(1, checkpoint.toUri().toString(), "0".repeat(64),
                    request(0));
            e = assertThrows(ExecutionException.class, () -> badDigest.get(60, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("could not load policy version 1"), e.getCause().getMessage());
            // Version 0 is loaded (by the first request) with these weights: a request meaning others is refused.
            CompletableFuture<ScoreResult> otherWeights = client.score(0, checkpoint.toUri().toString(),
                    "f".repeat(64), request(0));
            e = assertThrows(ExecutionException.class, () -> otherWeights.get(60, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("409") && e.getCause().getMessage().contains(
                    "is served with weights"), e.getCause().getMessage());
        }
    }
}
