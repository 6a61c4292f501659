package io.policylong.pipeline.operators;

import java.util.concurrent.atomic.AtomicLong;

/**
 * JVM-wide progress of the screening job, shared by its operators: what has been sent to screening, what has
 * come out of it (as a sample, a dropped sample or a dead letter), the newest policy version seen, the
 * re-screen backlog, and when anything last changed. The embedded runner reads it to stop once the job is
 * idle; on a cluster each TaskManager has its own (the Flink metrics are the cluster-wide view).
 */
public final class PipelineProgress {
    private static final AtomicLong DOCUMENTS = new AtomicLong();
    private static final AtomicLong EMITTED = new AtomicLong();
    private static final AtomicLong FINISHED = new AtomicLong();
    private static final AtomicLong BACKLOG = new AtomicLong();
    private static final AtomicLong LATEST_VERSION = new AtomicLong(-1);
    private static final AtomicLong LAST_CHANGE = new AtomicLong(System.nanoTime());

    private PipelineProgress() {
    }

    static void documentStored() {
        DOCUMENTS.incrementAndGet();
        touch();
    }

    static void screeningEmitted() {
        EMITTED.incrementAndGet();
        touch();
    }

    static void screeningFinished() {
        FINISHED.incrementAndGet();
        touch();
    }

    static void backlogChanged(long delta) {
        BACKLOG.addAndGet(delta);
        touch();
    }

    static void versionSeen(long version) {
        LATEST_VERSION.accumulateAndGet(version, Math::max);
        touch();
    }

    private static void touch() {
        LAST_CHANGE.set(System.nanoTime());
    }

    /** A consistent-enough reading of the counters. */
    public record Snapshot(long documents, long emitted, long finished, long backlog, long latestVersion,
            double secondsSinceChange) {
        /** Nothing in flight, nothing queued, and at least one screening done. */
        public boolean quiescent() {
            return emitted > 0 && emitted == finished && backlog == 0;
        }
    }

    /** The current counters. */
    public static Snapshot snapshot() {
        return new Snapshot(DOCUMENTS.get(), EMITTED.get(), FINISHED.get(), BACKLOG.get(), LATEST_VERSION.get(),
                (System.nanoTime() - LAST_CHANGE.get()) / 1e9);
    }

    /** The newest policy version this JVM has seen, -1 before any. */
    public static long latestVersion() {
        return LATEST_VERSION.get();
    }

    /** Resets every counter (between runs in one JVM, e.g. tests). */
    public static void reset() {
        DOCUMENTS.set(0);
        EMITTED.set(0);
        FINISHED.set(0);
        BACKLOG.set(0);
        LATEST_VERSION.set(-1);
        touch();
    }
}
