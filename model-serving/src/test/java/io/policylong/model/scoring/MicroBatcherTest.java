package io.policylong.model.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.DecoderModel;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.testing.TestCheckpoints;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The micro-batcher with the real scorer (concurrent callers get exactly what direct scoring gives) and
 * with a scripted scorer at its {@link BatchScorer} boundary to pin down grouping, back-pressure, failure
 * isolation and shutdown.
 */
class MicroBatcherTest {

    @Test
    void concurrentCallersGetTheirOwnResults(@TempDir Path dir) throws Exception {
        TestCheckpoints.write(dir, TestCheckpoints.tinyQwen2(64, true, new RopeScaling.None()), SafetensorsDType.F32,
                0, 9);
        try (DecoderModel model = DecoderModel.load(dir, Device.cpu())) {
            EntropyScorer scorer = new EntropyScorer(model, ChunkSettings.DEFAULT, 4096);
            List<ScoreRequest> requests = new ArrayList<>();
            for (int i = 0; i < 120; i++) {
                requests.add(ScoreRequest.allPositions(TestCheckpoints.tokens(2 + (i * 37) % 90, 64, i)));
            }
            List<ScoreResult> direct = new ArrayList<>();
            for (ScoreRequest r : requests) {
                direct.add(scorer.score(List.of(r)).get(0));
            }
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try (MicroBatcher batcher = new MicroBatcher(scorer, scorer::validate, 2048, Duration.ofMillis(5), 16,
                    "test-batcher")) {
                List<Future<ScoreResult>> futures = new ArrayList<>();
                for (ScoreRequest r : requests) {
                    futures.add(callers.submit(() -> batcher.submit(r).get()));
                }
                for (int i = 0; i < requests.size(); i++) {
                    ScoreResult got = futures.get(i).get(60, TimeUnit.SECONDS);
                    assertArrayEquals(direct.get(i).entropy(), got.entropy(), 1e-4f);
                    assertArrayEquals(direct.get(i).logprob(), got.logprob(), 1e-4f);
                }
                assertTrue(batcher.batchCount() < requests.size(), "requests were grouped: " + batcher.batchCount());
                assertEquals(requests.size(), batcher.completedCount());
            } finally {
                callers.shutdownNow();
            }
        }
    }

    @Test
    void batchesStayWithinTheTokenBudget() throws Exception {
        RecordingScorer scorer = new RecordingScorer();
        List<CompletableFuture<ScoreResult>> futures = new ArrayList<>();
        try (MicroBatcher batcher = new MicroBatcher(scorer, null, 30, Duration.ofMillis(200), 64, "budget")) {
            for (int i = 0; i < 10; i++) {
                futures.add(batcher.submit(ScoreRequest.allPositions(new long[10])));
            }
        }
        for (CompletableFuture<ScoreResult> f : futures) {
            assertEquals(9, f.get().size());
        }
        int total = 0;
        for (int tokens : scorer.batchTokens) {
            assertTrue(tokens <= 30, "batch of " + tokens + " tokens");
            total += tokens;
        }
        assertEquals(100, total);
        assertTrue(scorer.batchTokens.size() >= 4, "10 requests of 10 tokens need at least 4 batches of 30");
    }

    @Test
    void deadlineSendsAPartialBatch() throws Exception {
        RecordingScorer scorer = new RecordingScorer();
        try (MicroBatcher batcher = new MicroBatcher(scorer, null, 1_000_000, Duration.ofMillis(20), 8, "deadline")) {
            ScoreResult r = batcher.submit(ScoreRequest.allPositions(new long[] {1, 2, 3})).get(10, TimeUnit.SECONDS);
            assertEquals(2, r.size());
            assertEquals(List.of(3), scorer.batchTokens);
        }
    }

    @Test
    void fullQueueBlocksSubmittersUntilThereIsRoom() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch scoring = new CountDownLatch(1);
        BatchScorer blocking = requests -> {
            scoring.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new RecordingScorer().score(requests);
        };
        ExecutorService submitter = Executors.newSingleThreadExecutor();
        try (MicroBatcher batcher = new MicroBatcher(blocking, null, 1, Duration.ZERO, 2, "pressure")) {
            CompletableFuture<ScoreResult> first = batcher.submit(ScoreRequest.allPositions(new long[] {1}));
            assertTrue(scoring.await(10, TimeUnit.SECONDS), "the worker is scoring the first request");
            batcher.submit(ScoreRequest.allPositions(new long[] {2}));
            batcher.submit(ScoreRequest.allPositions(new long[] {3}));
            assertEquals(2, batcher.queued());
            Future<CompletableFuture<ScoreResult>> fourth =
                    submitter.submit(() -> batcher.submit(ScoreRequest.allPositions(new long[] {4})));
            Thread.sleep(300);
            assertFalse(fourth.isDone(), "submit blocks while the queue is full");
            release.countDown();
            assertEquals(0, fourth.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS).size());
            assertTrue(first.isDone());
        } finally {
            submitter.shutdownNow();
        }
    }

    @Test
    void submitIfRoomNeverWaitsAndSaysWhenTheQueueIsFull() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch scoring = new CountDownLatch(1);
        BatchScorer blocking = requests -> {
            scoring.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new RecordingScorer().score(requests);
        };
        try (MicroBatcher batcher = new MicroBatcher(blocking, null, 1, Duration.ZERO, 2, "no-wait")) {
            CompletableFuture<ScoreResult> first = batcher.submitIfRoom(ScoreRequest.allPositions(new long[] {1}));
            assertTrue(scoring.await(10, TimeUnit.SECONDS), "the worker is scoring the first request");
            assertTrue(batcher.submitIfRoom(ScoreRequest.allPositions(new long[] {2})) != null);
            assertTrue(batcher.submitIfRoom(ScoreRequest.allPositions(new long[] {3})) != null);
            assertEquals(null, batcher.submitIfRoom(ScoreRequest.allPositions(new long[] {4})), "the queue is full");
            release.countDown();
            assertEquals(0, first.get(10, TimeUnit.SECONDS).size());
        }
    }

    @Test
    void aFailingRequestFailsAlone() throws Exception {
        BatchScorer poisonable = requests -> {
            for (ScoreRequest r : requests) {
                if (r.tokenIds()[0] == 13) {
                    throw new IllegalStateException("cannot score token 13");
                }
            }
            return new RecordingScorer().score(requests);
        };
        try (MicroBatcher batcher = new MicroBatcher(poisonable, null, 1000, Duration.ofMillis(100), 8, "poison")) {
            CompletableFuture<ScoreResult> a = batcher.submit(ScoreRequest.allPositions(new long[] {1, 2}));
            CompletableFuture<ScoreResult> bad = batcher.submit(ScoreRequest.allPositions(new long[] {13, 2}));
            CompletableFuture<ScoreResult> c = batcher.submit(ScoreRequest.allPositions(new long[] {3, 4, 5}));
            assertEquals(1, a.get(10, TimeUnit.SECONDS).size());
            assertEquals(2, c.get(10, TimeUnit.SECONDS).size());
            ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("token 13"));
        }
    }

    @Test
    void validationFailsOnlyThatRequestAtSubmission() throws Exception {
        RecordingScorer scorer = new RecordingScorer();
        try (MicroBatcher batcher = new MicroBatcher(scorer, r -> {
            if (r.length() > 4) {
                throw new IllegalArgumentException("too long");
            }
        }, 100, Duration.ZERO, 4, "validate")) {
            CompletableFuture<ScoreResult> rejected = batcher.submit(ScoreRequest.allPositions(new long[9]));
            assertTrue(rejected.isCompletedExceptionally());
            assertEquals(1, batcher.submit(ScoreRequest.allPositions(new long[2])).get(10, TimeUnit.SECONDS).size());
        }
    }

    @Test
    void closeScoresWhatIsQueuedThenRejects() throws Exception {
        RecordingScorer scorer = new RecordingScorer();
        MicroBatcher batcher = new MicroBatcher(scorer, null, 5, Duration.ofMillis(50), 100, "close");
        List<CompletableFuture<ScoreResult>> futures = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            futures.add(batcher.submit(ScoreRequest.allPositions(new long[] {i, i + 1})));
        }
        batcher.close();
        for (CompletableFuture<ScoreResult> f : futures) {
            assertTrue(f.isDone() && !f.isCompletedExceptionally(), "every queued request was scored");
        }
        assertThrows(RejectedExecutionException.class,
                () -> batcher.submit(ScoreRequest.allPositions(new long[] {1})));
    }

    @Test
    void closingWithATimeoutFailsTheBatchBeingCollected() throws Exception {
        MicroBatcher batcher = new MicroBatcher(new RecordingScorer(), null, 1_000_000, Duration.ofSeconds(30), 8,
                "collecting");
        CompletableFuture<ScoreResult> waiting = batcher.submit(ScoreRequest.allPositions(new long[] {1, 2}));
        Thread.sleep(100); // the worker has taken it and waits for more until the 30 s deadline
        batcher.close(Duration.ofSeconds(5));
        assertTrue(waiting.isDone(), "a request taken into a batch is never left pending");
        assertEquals(1, waiting.get().size(), "closing cuts the wait short and scores what was collected");
    }

    @Test
    void aCallbackThatSubmitsFailsInsteadOfDeadlocking() throws Exception {
        // The first batch waits until the dependent stage is attached, so that the stage runs on the worker
        // (attached to an already completed future, it would run on this thread instead).
        CountDownLatch attached = new CountDownLatch(1);
        BatchScorer gated = requests -> {
            try {
                attached.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new RecordingScorer().score(requests);
        };
        try (MicroBatcher batcher = new MicroBatcher(gated, null, 100, Duration.ZERO, 1, "callback")) {
            CompletableFuture<Object> nested = batcher.submit(ScoreRequest.allPositions(new long[] {1, 2}))
                    .thenApply(r -> {
                        try {
                            return batcher.submit(ScoreRequest.allPositions(new long[] {3}));
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    });
            attached.countDown();
            ExecutionException e = assertThrows(ExecutionException.class, () -> nested.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
            // The worker is still alive and serving.
            assertEquals(1, batcher.submit(ScoreRequest.allPositions(new long[] {4, 5})).get(10, TimeUnit.SECONDS)
                    .size());
            assertEquals(0, batcher.submit(ScoreRequest.allPositions(new long[] {6})).thenApplyAsync(ScoreResult::size)
                    .get(10, TimeUnit.SECONDS), "an asynchronous stage may do anything");
        }
    }

    @Test
    void aRequestItsCallerGaveUpOnIsDroppedUnscored() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch scoring = new CountDownLatch(1);
        RecordingScorer recording = new RecordingScorer();
        BatchScorer stalling = requests -> {
            scoring.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return recording.score(requests);
        };
        try (MicroBatcher batcher = new MicroBatcher(stalling, null, 1, Duration.ZERO, 8, "dropping")) {
            CompletableFuture<ScoreResult> stalled = batcher.submit(ScoreRequest.allPositions(new long[] {1}));
            assertTrue(scoring.await(10, TimeUnit.SECONDS), "the scorer stalls on the first request");
            CompletableFuture<ScoreResult> abandoned = batcher.submit(ScoreRequest.allPositions(new long[] {2, 2}));
            CompletableFuture<ScoreResult> wanted = batcher.submit(ScoreRequest.allPositions(new long[] {3, 3, 3}));
            abandoned.cancel(false); // its caller timed out
            release.countDown();
            assertEquals(2, wanted.get(10, TimeUnit.SECONDS).size());
            assertTrue(stalled.isDone());
            assertEquals(List.of(1, 3), recording.batchTokens, "the abandoned request never reached the model");
            assertEquals(1, batcher.droppedCount());
        }
    }

    /** Scores nothing real: returns zero-filled results and records batch sizes in tokens. */
    private static final class RecordingScorer implements BatchScorer {
        final List<Integer> batchTokens = Collections.synchronizedList(new ArrayList<>());

        @Override
        public List<ScoreResult> score(List<ScoreRequest> requests) {
            batchTokens.add(requests.stream().mapToInt(ScoreRequest::length).sum());
            List<ScoreResult> results = new ArrayList<>();
            for (ScoreRequest r : requests) {
                int n = r.scoredCount();
                int[] positions = new int[n];
                for (int i = 0; i < n; i++) {
                    positions[i] = r.position(i);
                }
                results.add(new ScoreResult(positions, new float[n], new float[n]));
            }
            return results;
        }
    }
}
