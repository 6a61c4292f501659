package io.policylong.model.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.testing.TestCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading, sharing and freeing real checkpoint versions. */
class CheckpointRegistryTest {
    @TempDir
    static Path dir;

    private final AtomicInteger loads = new AtomicInteger();
    private final ExecutorService executor = Executors.newFixedThreadPool(2);

    @BeforeAll
    static void writeCheckpoints() throws Exception {
        for (int v = 1; v <= 4; v++) {
            TestCheckpoints.write(dir.resolve("v" + v), TestCheckpoints.tinyQwen2(40, true, new RopeScaling.None()),
                    SafetensorsDType.F32, 0, v);
        }
        Files.createDirectories(dir.resolve("broken"));
        Files.writeString(dir.resolve("broken/config.json"), "{ not json");
    }

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    private CheckpointRegistry<Path> registry(int maxResident, CountDownLatch gate) {
        return new CheckpointRegistry<Path>(maxResident, (version, directory) -> {
            if (gate != null) {
                gate.await();
            }
            loads.incrementAndGet();
            return LoadedCheckpoint.load(directory, Device.cpu(), ChunkSettings.DEFAULT, 4096);
        }, executor);
    }

    @Test
    void concurrentRequestsShareOneLoad() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (CheckpointRegistry<Path> registry = registry(2, gate)) {
            CompletableFuture<CheckpointRegistry<Path>.Lease> a = registry.acquire(1, dir.resolve("v1"));
            CompletableFuture<CheckpointRegistry<Path>.Lease> b = registry.acquire(1, dir.resolve("v1"));
            assertTrue(!a.isDone() && !b.isDone(), "both wait for the load in progress");
            gate.countDown();
            try (CheckpointRegistry<Path>.Lease la = a.get(30, TimeUnit.SECONDS);
                    CheckpointRegistry<Path>.Lease lb = b.get(30, TimeUnit.SECONDS)) {
                assertSame(la.checkpoint(), lb.checkpoint());
                assertEquals(1, la.version());
            }
            assertEquals(1, loads.get());
            assertEquals(List.of(1L), registry.residentVersions());
        }
    }

    @Test
    void keepsTheNewestVersionsAndFreesOldOnes() throws Exception {
        try (CheckpointRegistry<Path> registry = registry(2, null)) {
            for (long v = 1; v <= 3; v++) {
                registry.acquire(v, dir.resolve("v" + v)).get(30, TimeUnit.SECONDS).close();
            }
            assertEquals(List.of(2L, 3L), registry.residentVersions());
            // A resident version is served without loading again.
            registry.acquire(3, dir.resolve("v3")).get(30, TimeUnit.SECONDS).close();
            assertEquals(3, loads.get());
        }
    }

    @Test
    void aLeasedVersionIsNotFreedUntilReleased() throws Exception {
        try (CheckpointRegistry<Path> registry = registry(1, null)) {
            CheckpointRegistry<Path>.Lease old = registry.acquire(1, dir.resolve("v1")).get(30, TimeUnit.SECONDS);
            registry.acquire(2, dir.resolve("v2")).get(30, TimeUnit.SECONDS).close();
            assertEquals(List.of(1L, 2L), registry.residentVersions());
            // Still usable while leased.
            ScoreResult r = old.checkpoint().scorer().score(List.of(ScoreRequest.allPositions(new long[] {1, 2, 3})))
                    .get(0);
            assertEquals(2, r.size());
            old.close();
            assertEquals(List.of(2L), registry.residentVersions());
        }
    }

    @Test
    void aFailedLoadLeavesLoadedVersionsAndIsRetried() throws Exception {
        try (CheckpointRegistry<Path> registry = registry(3, null)) {
            registry.acquire(1, dir.resolve("v1")).get(30, TimeUnit.SECONDS).close();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> registry.acquire(2, dir.resolve("broken")).get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof CheckpointRegistry.LoadFailedException, String.valueOf(e.getCause()));
            assertTrue(e.getCause().getMessage().contains("policy version 2"), e.getCause().getMessage());
            assertTrue(e.getCause().getMessage().contains("config.json"), e.getCause().getMessage());
            assertEquals(List.of(1L), registry.residentVersions());
            assertThrows(ExecutionException.class,
                    () -> registry.acquire(2, dir.resolve("broken")).get(30, TimeUnit.SECONDS));
            assertEquals(3, loads.get(), "the second request for the broken version tried to load it again");
        }
    }

    @Test
    void aVersionCannotChangeItsDirectory() throws Exception {
        try (CheckpointRegistry<Path> registry = registry(2, null)) {
            registry.acquire(1, dir.resolve("v1")).get(30, TimeUnit.SECONDS).close();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> registry.acquire(1, dir.resolve("v2")).get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IllegalArgumentException);
        }
    }

    @Test
    void aCallerThatGivesUpReleasesItsClaim() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (CheckpointRegistry<Path> registry = registry(1, gate)) {
            CompletableFuture<CheckpointRegistry<Path>.Lease> abandoned = registry.acquire(1, dir.resolve("v1"));
            abandoned.cancel(false);
            gate.countDown();
            registry.acquire(2, dir.resolve("v2")).get(30, TimeUnit.SECONDS).close();
            registry.acquire(3, dir.resolve("v3")).get(30, TimeUnit.SECONDS).close();
            assertEquals(List.of(3L), registry.residentVersions(), "version 1 was freed although nobody took it");
        }
    }

    @Test
    void aRejectedLoadFailsAndCanBeRetried() throws Exception {
        ExecutorService stopped = Executors.newSingleThreadExecutor();
        stopped.shutdown();
        try (CheckpointRegistry<Path> registry = new CheckpointRegistry<Path>(2,
                (v, d) -> LoadedCheckpoint.load(d, Device.cpu(), ChunkSettings.DEFAULT, 4096), stopped)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> registry.acquire(1, dir.resolve("v1")).get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof CheckpointRegistry.LoadFailedException);
            assertThrows(ExecutionException.class, () -> registry.acquire(1, dir.resolve("v1")).get(10, TimeUnit.SECONDS),
                    "the second request tries again (and fails again) instead of hanging");
        }
    }

    @Test
    void closingKeepsLeasedVersionsUntilReleased() throws Exception {
        CheckpointRegistry<Path> registry = registry(2, null);
        CheckpointRegistry<Path>.Lease held = registry.acquire(1, dir.resolve("v1")).get(30, TimeUnit.SECONDS);
        registry.acquire(2, dir.resolve("v2")).get(30, TimeUnit.SECONDS).close();
        registry.close();
        assertEquals(List.of(1L), registry.residentVersions(), "the unleased version is freed at once");
        ScoreResult r = held.checkpoint().scorer().score(List.of(ScoreRequest.allPositions(new long[] {1, 2})))
                .get(0);
        assertEquals(1, r.size(), "the leased version still scores");
        held.close();
        assertEquals(List.of(), registry.residentVersions());
        assertThrows(ExecutionException.class, () -> registry.acquire(3, dir.resolve("v3")).get(10, TimeUnit.SECONDS));
    }

    @Test
    void differentVersionsScoreDifferently() throws Exception {
        try (CheckpointRegistry<Path> registry = registry(2, null);
                CheckpointRegistry<Path>.Lease one = registry.acquire(1, dir.resolve("v1")).get(30, TimeUnit.SECONDS);
                CheckpointRegistry<Path>.Lease four = registry.acquire(4, dir.resolve("v4")).get(30, TimeUnit.SECONDS)) {
            ScoreRequest request = ScoreRequest.allPositions(new long[] {5, 9, 2, 7});
            float a = one.checkpoint().scorer().score(List.of(request)).get(0).entropy()[2];
            float b = four.checkpoint().scorer().score(List.of(request)).get(0).entropy()[2];
            assertNotEquals(a, b);
        }
    }

    @Test
    void theLastLeaseOfAnEvictedVersionMayBeReleasedOnThatVersionsOwnBatcherThread() throws Exception {
        try (CheckpointRegistry<Path> registry = registry(2, null)) {
            CheckpointRegistry<Path>.Lease first = registry.acquire(1, dir.resolve("v1")).get(30, TimeUnit.SECONDS);
            MicroBatcher batcher = first.checkpoint().batcher(new BatchingSettings(4096, Duration.ofMillis(200), 8));
            // Two newer versions load while the first is still leased: it is past the limit, freed on release.
            registry.acquire(2, dir.resolve("v2")).get(30, TimeUnit.SECONDS).close();
            registry.acquire(3, dir.resolve("v3")).get(30, TimeUnit.SECONDS).close();
            assertEquals(List.of(1L, 2L, 3L), registry.residentVersions());
            // As the scoring stages do: the work completes on the batcher's thread, which releases the lease.
            CompletableFuture<String> done = batcher.submit(ScoreRequest.allPositions(new long[] {1, 2, 3, 4}))
                    .thenApply(result -> {
                        first.close();
                        return "completed";
                    });
            assertEquals("completed", done.get(30, TimeUnit.SECONDS), "the caller's work completes");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!registry.residentVersions().equals(List.of(2L, 3L)) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(List.of(2L, 3L), registry.residentVersions());
            long closeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            boolean closed = false;
            while (!closed && System.nanoTime() < closeDeadline) {
                try {
                    batcher.submit(ScoreRequest.allPositions(new long[] {1, 2})).get(5, TimeUnit.SECONDS);
                    Thread.sleep(20);
                } catch (java.util.concurrent.RejectedExecutionException | java.util.concurrent.ExecutionException e) {
                    closed = true;
                }
            }
            assertTrue(closed, "the evicted version's batcher (and model) are closed");
        }
    }
}
