package io.policylong.model.scoring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Groups single scoring requests into batches. Callers {@link #submit} one sequence and get a future; a
 * worker thread collects requests until their tokens reach {@code maxBatchTokens} or {@code maxDelay} has
 * passed since the first one arrived, then scores them together. The queue is bounded: {@code submit} blocks
 * while it is full, which is the back-pressure a streaming caller needs. A batch that fails is retried one
 * request at a time so a single bad request fails only its own future.
 *
 * <p>A request whose future the caller completes or cancels while it waits (it gave up on it) is dropped
 * unscored. Futures complete on the worker thread: dependent stages should be short, and must not submit or close
 * (use an asynchronous stage for that; doing it anyway fails with an IllegalStateException instead of
 * deadlocking). {@link #close()} stops accepting requests, scores everything already queued and stops the
 * worker.
 */
public final class MicroBatcher implements AutoCloseable {
    private static final long POLL_SLICE_NANOS = 10_000_000L;

    private final BatchScorer scorer;
    private final Consumer<ScoreRequest> validator;
    private final long maxBatchTokens;
    private final long maxDelayNanos;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    /** Free places in the queue; bounds it so that submitters block instead of piling up requests. */
    private final Semaphore room;
    /** Guards the closed flag against a submission racing the worker's decision to stop. */
    private final Object lifecycle = new Object();
    private final Thread worker;
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong scoredRequests = new AtomicLong();
    private final AtomicLong droppedRequests = new AtomicLong();
    private volatile boolean closed;
    /** Worker-only: a request taken from the queue that did not fit the last batch. */
    private Pending carried;
    /** Worker-only: the batch being collected or scored; failed on shutdown if it was not scored. */
    private final List<Pending> batch = new ArrayList<>();

    private record Pending(ScoreRequest request, CompletableFuture<ScoreResult> future, long enqueuedNanos) {
    }

    /**
     * @param scorer what scores a batch
     * @param validator checks a request at submission (throws IllegalArgumentException); may be null
     * @param maxBatchTokens token budget of one batch (sum of sequence lengths)
     * @param maxDelay longest a request waits for others to join its batch
     * @param queueCapacity requests that may wait before {@code submit} blocks
     * @param name name of the worker thread
     */
    public MicroBatcher(BatchScorer scorer, Consumer<ScoreRequest> validator, long maxBatchTokens, Duration maxDelay,
            int queueCapacity, String name) {
        if (maxBatchTokens <= 0 || queueCapacity <= 0 || maxDelay.isNegative()) {
            throw new IllegalArgumentException("maxBatchTokens and queueCapacity must be positive, maxDelay >= 0");
        }
        this.scorer = scorer;
        this.validator = validator;
        this.maxBatchTokens = maxBatchTokens;
        this.maxDelayNanos = maxDelay.toNanos();
        this.room = new Semaphore(queueCapacity);
        this.worker = new Thread(this::run, name);
        this.worker.setDaemon(true);
        this.worker.start();
    }

    /**
     * Queues a request, blocking while the queue is full. A request that fails validation completes
     * exceptionally at once.
     *
     * @throws RejectedExecutionException if the batcher is closed
     * @throws InterruptedException if interrupted while waiting for room
     */
    public CompletableFuture<ScoreResult> submit(ScoreRequest request) throws InterruptedException {
        CompletableFuture<ScoreResult> future = new CompletableFuture<>();
        if (validator != null) {
            try {
                validator.accept(request);
            } catch (IllegalArgumentException e) {
                future.completeExceptionally(e);
                return future;
            }
        }
        if (closed) {
            throw new RejectedExecutionException("the micro-batcher is closed");
        }
        rejectFromWorker("submit");
        room.acquire();
        synchronized (lifecycle) {
            if (closed) {
                room.release();
                throw new RejectedExecutionException("the micro-batcher is closed");
            }
            queue.add(new Pending(request, future, System.nanoTime()));
        }
        return future;
    }

    /**
     * Queues a request if the queue has room, without waiting: a server answers "overloaded" instead of holding a
     * connection. A request that fails validation completes exceptionally at once.
     *
     * @return the result's future, or null when the queue is full
     * @throws RejectedExecutionException if the batcher is closed
     */
    public CompletableFuture<ScoreResult> submitIfRoom(ScoreRequest request) {
        CompletableFuture<ScoreResult> future = new CompletableFuture<>();
        if (validator != null) {
            try {
                validator.accept(request);
            } catch (IllegalArgumentException e) {
                future.completeExceptionally(e);
                return future;
            }
        }
        rejectFromWorker("submitIfRoom");
        if (!room.tryAcquire()) {
            return null;
        }
        synchronized (lifecycle) {
            if (closed) {
                room.release();
                throw new RejectedExecutionException("the micro-batcher is closed");
            }
            queue.add(new Pending(request, future, System.nanoTime()));
        }
        return future;
    }

    /** Number of batches scored so far. */
    public long batchCount() {
        return batches.get();
    }

    /** Number of requests scored so far, successfully or not (counted just before their futures complete). */
    public long completedCount() {
        return scoredRequests.get();
    }

    /**
     * Requests dropped unscored because their caller had given up on them (completed or cancelled their
     * future, after a timeout for example) while they waited.
     */
    public long droppedCount() {
        return droppedRequests.get();
    }

    /** Requests waiting to be batched. */
    public int queued() {
        return queue.size();
    }

    private void run() {
        try {
            while (nextBatch()) {
                scoreBatch();
                batch.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            failRemaining(new CancellationException("the micro-batcher stopped before scoring this request"));
        }
    }

    /** Collects the next batch into {@link #batch}; false once closed and drained. */
    private boolean nextBatch() throws InterruptedException {
        Pending first = carried;
        carried = null;
        while (first == null) {
            first = take(20_000_000L);
            if (first == null) {
                synchronized (lifecycle) {
                    if (closed && queue.isEmpty()) {
                        return false;
                    }
                }
            }
        }
        batch.add(first);
        long tokens = first.request().length();
        long deadline = first.enqueuedNanos() + maxDelayNanos;
        while (tokens < maxBatchTokens) {
            long remaining = deadline - System.nanoTime();
            Pending next;
            if (closed || remaining <= 0) {
                // Past the deadline, or closing (nothing new can arrive): take only what is already queued.
                next = take(0);
                if (next == null) {
                    break;
                }
            } else {
                // Wait in short slices so that a close() is noticed without waiting out the deadline.
                next = take(Math.min(remaining, POLL_SLICE_NANOS));
                if (next == null) {
                    continue;
                }
            }
            if (tokens + next.request().length() > maxBatchTokens) {
                carried = next;
                break;
            }
            batch.add(next);
            tokens += next.request().length();
        }
        return true;
    }

    /** Takes the next queued request, waiting up to the given time, and frees its place in the queue. */
    private Pending take(long waitNanos) throws InterruptedException {
        Pending next = waitNanos > 0 ? queue.poll(waitNanos, TimeUnit.NANOSECONDS) : queue.poll();
        while (next != null) {
            room.release();
            if (!next.future().isDone()) {
                return next;
            }
            // Its caller gave up (a timed-out screening cancels what it submitted): do not spend the model on it.
            droppedRequests.incrementAndGet();
            next = queue.poll();
        }
        return null;
    }

    private void scoreBatch() {
        int before = batch.size();
        batch.removeIf(p -> p.future().isDone());
        droppedRequests.addAndGet(before - batch.size());
        if (batch.isEmpty()) {
            return;
        }
        List<ScoreRequest> requests = batch.stream().map(Pending::request).toList();
        // Counted before any future completes, so a caller that has its result also sees it counted.
        batches.incrementAndGet();
        scoredRequests.addAndGet(batch.size());
        try {
            List<ScoreResult> results = scorer.score(requests);
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).future().complete(results.get(i));
            }
        } catch (RuntimeException | Error batchFailure) {
            if (batch.size() == 1) {
                batch.get(0).future().completeExceptionally(batchFailure);
            } else {
                for (Pending p : batch) {
                    try {
                        p.future().complete(scorer.score(List.of(p.request())).get(0));
                    } catch (RuntimeException | Error single) {
                        p.future().completeExceptionally(single);
                    }
                }
            }
        }
    }

    private void failRemaining(Throwable reason) {
        for (Pending p : batch) {
            p.future().completeExceptionally(reason);
        }
        batch.clear();
        if (carried != null) {
            carried.future().completeExceptionally(reason);
            carried = null;
        }
        markClosed();
        Pending p;
        while ((p = queue.poll()) != null) {
            room.release();
            p.future().completeExceptionally(reason);
        }
    }

    /**
     * Futures are completed on the worker thread, so a dependent stage that submits or closes would wait for
     * the worker itself; fail fast instead of deadlocking.
     */
    private void rejectFromWorker(String operation) {
        if (Thread.currentThread() == worker) {
            throw new IllegalStateException(operation + " called on the micro-batcher's own thread (from a "
                    + "completion stage) would deadlock; use an asynchronous stage such as thenApplyAsync");
        }
    }

    private void markClosed() {
        synchronized (lifecycle) {
            closed = true;
        }
    }

    /** Stops accepting requests, scores what is queued and waits for the worker to finish. */
    @Override
    public void close() {
        rejectFromWorker("close");
        markClosed();
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops accepting requests and waits up to {@code timeout} for queued ones; whatever is still queued after
     * that fails with a {@link CancellationException}. Returns whether the worker finished in time.
     */
    public boolean close(Duration timeout) throws InterruptedException {
        rejectFromWorker("close");
        markClosed();
        worker.join(Math.max(1, timeout.toMillis()));
        if (worker.isAlive()) {
            worker.interrupt();
            worker.join();
            return false;
        }
        return true;
    }
}
