package io.policylong.pipeline.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.scoring.BatchScorer;
import io.policylong.model.scoring.CheckpointRegistry;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.scoring.MicroBatcher;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.model.testing.TestCheckpoints;
import io.policylong.pipeline.tasks.PolicyRef;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.streaming.api.functions.async.CollectionSupplier;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scorer that stalls and then recovers: the stalled attempt misses its deadline, its queued requests are
 * dropped unscored, its lease is released, and the next attempt succeeds.
 */
class LeasedScoringTest {
    @TempDir
    static Path dir;

    private final ExecutorService loader = Executors.newSingleThreadExecutor();

    @BeforeAll
    static void checkpoints() throws Exception {
        for (int v = 1; v <= 3; v++) {
            TestCheckpoints.write(dir.resolve("v" + v), TestCheckpoints.tinyQwen2(40, true, new RopeScaling.None()),
                    SafetensorsDType.F32, 0, v);
        }
    }

    @AfterEach
    void stop() {
        loader.shutdownNow();
    }

    private static PolicyRef policy(long version) {
        return new PolicyRef(version, dir.resolve("v" + version).toUri().toString(), null);
    }

    /** Captures what an async operator would receive. */
    private static final class Captured<T> implements ResultFuture<T> {
        final CompletableFuture<T> value = new CompletableFuture<>();

        @Override
        public void complete(Collection<T> result) {
            value.complete(result.iterator().next());
        }

        @Override
        public void completeExceptionally(Throwable error) {
            value.completeExceptionally(error);
        }

        @Override
        public void complete(CollectionSupplier<T> supplier) {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void aStalledAttemptIsCancelledAndReleasedAndTheNextSucceeds() throws Exception {
        CheckpointRegistry<PolicyRef> registry = new CheckpointRegistry<>(1, (version, p) -> LoadedCheckpoint.load(
                dir.resolve("v" + version), Device.cpu(), ChunkSettings.DEFAULT, 4096), loader);
        CountDownLatch stalled = new CountDownLatch(1);
        CountDownLatch recover = new CountDownLatch(1);
        AtomicInteger scored = new AtomicInteger();
        BatchScorer scorer = requests -> {
            stalled.countDown();
            try {
                recover.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            List<ScoreResult> results = new ArrayList<>();
            for (ScoreRequest r : requests) {
                scored.incrementAndGet();
                results.add(new ScoreResult(new int[0], new float[0], new float[0]));
            }
            return results;
        };
        try (MicroBatcher batcher = new MicroBatcher(scorer, null, 1, Duration.ZERO, 8, "stalling")) {
            // Something else has the scorer stuck.
            batcher.submit(ScoreRequest.allPositions(new long[] {1}));
            assertTrue(stalled.await(10, TimeUnit.SECONDS));
            LeasedScoring scoring = new LeasedScoring(p -> registry.acquire(p.version(), p).thenApply(l -> ScoringService.inProcess(l,
                    io.policylong.model.scoring.BatchingSettings.DEFAULT)), Duration.ofMillis(300));
            LeasedScoring.Work<String> work = (lease, submitted) -> {
                CompletableFuture<ScoreResult> f = batcher.submit(ScoreRequest.allPositions(new long[] {2, 2}));
                submitted.add(f);
                return f.thenApply(r -> List.of("scored under version " + lease.version()));
            };
            Captured<String> first = new Captured<>();
            scoring.run("doc", policy(1), work, reason -> "load failed: " + reason, reason -> "failed: " + reason,
                    first);
            assertEquals("failed: an attempt took longer than PT0.3S", first.value.get(10, TimeUnit.SECONDS));

            // The lease was released: a newer version evicts version 1 (one resident).
            registry.acquire(2, policy(2)).get(30, TimeUnit.SECONDS).close();
            assertEquals(List.of(2L), registry.residentVersions());

            recover.countDown(); // the scorer recovers
            Captured<String> second = new Captured<>();
            scoring.run("doc", policy(2), work, reason -> "load failed: " + reason, reason -> "failed: " + reason,
                    second);
            assertEquals("scored under version 2", second.value.get(10, TimeUnit.SECONDS));
            assertEquals(1, batcher.droppedCount(), "the stalled attempt's request was never scored");
            assertEquals(2, scored.get(), "the stuck request and the second attempt's");
        } finally {
            registry.close();
        }
    }

    @Test
    void anElementTheOperatorGivesUpOnHasItsQueuedRequestsDropped() throws Exception {
        CheckpointRegistry<PolicyRef> registry = new CheckpointRegistry<>(2, (version, p) -> LoadedCheckpoint.load(
                dir.resolve("v" + version), Device.cpu(), ChunkSettings.DEFAULT, 4096), loader);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch busy = new CountDownLatch(1);
        BatchScorer scorer = requests -> {
            busy.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return requests.stream().map(r -> new ScoreResult(new int[0], new float[0], new float[0])).toList();
        };
        try (MicroBatcher batcher = new MicroBatcher(scorer, null, 1, Duration.ZERO, 8, "busy")) {
            batcher.submit(ScoreRequest.allPositions(new long[] {1}));
            assertTrue(busy.await(10, TimeUnit.SECONDS));
            LeasedScoring scoring = new LeasedScoring(p -> registry.acquire(p.version(), p).thenApply(l -> ScoringService.inProcess(l,
                    io.policylong.model.scoring.BatchingSettings.DEFAULT)), Duration.ofMinutes(5));
            CompletableFuture<ScoreResult> queued = new CompletableFuture<>();
            Captured<String> result = new Captured<>();
            scoring.run("element", policy(3), (lease, submitted) -> {
                CompletableFuture<ScoreResult> f = batcher.submit(ScoreRequest.allPositions(new long[] {3}));
                submitted.add(f);
                queued.complete(null);
                return f.thenApply(r -> List.of("scored"));
            }, reason -> "load failed", reason -> "failed: " + reason, result);
            queued.get(30, TimeUnit.SECONDS);
            scoring.abandon("element"); // the operator's overall timeout
            release.countDown();
            assertTrue(result.value.get(10, TimeUnit.SECONDS).startsWith("failed: "), "the attempt ends");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (batcher.droppedCount() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1, batcher.droppedCount());
        } finally {
            registry.close();
        }
    }
}
