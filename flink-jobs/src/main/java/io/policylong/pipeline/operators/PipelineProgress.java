package io.policylong.pipeline.operators;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * JVM-wide progress of the screening job, shared by its operators: which documents are stored, the newest
 * version each has been screened under <em>and committed</em> (its sample, drop or dead letter is in a
 * completed Flink checkpoint), the newest policy version accepted, and when anything last changed.
 *
 * <p>Everything is keyed by document id and only moves forward, so a restart that replays records counts
 * nothing twice, and a screening lost in a failure is not counted until its replay is committed. The embedded
 * runner reads it to stop once every stored document is committed under the newest version. Per-document
 * tracking is off until {@link #reset()} turns it on (the embedded runner does), so a long-running job on a
 * cluster, where each TaskManager has its own copy and the Flink metrics are the cluster-wide view, does not
 * keep an entry per document.
 */
public final class PipelineProgress {
    private static final Map<String, Long> STORED = new ConcurrentHashMap<>();
    private static volatile boolean tracking;
    private static final AtomicLong COMMITTED = new AtomicLong();
    private static final AtomicLong LATEST_VERSION = new AtomicLong(-1);
    private static final AtomicLong LAST_CHANGE = new AtomicLong(System.nanoTime());
    private static final Map<Long, Instant> ANNOUNCED = new ConcurrentHashMap<>();
    private static final Map<Long, Instant> FIRST_COMMIT = new ConcurrentHashMap<>();
    private static final Map<Long, Instant> LAST_COMMIT_OF = new ConcurrentHashMap<>();
    private static final Map<Long, AtomicLong> COMMITTED_OF = new ConcurrentHashMap<>();
    private static final AtomicLong DOCUMENT_TOKENS = new AtomicLong();
    private static final AtomicLong FORWARD_TOKENS = new AtomicLong();
    private static final AtomicLong POSITIVES = new AtomicLong();
    private static final AtomicLong FIRST_STORED = new AtomicLong();
    private static final AtomicLong LAST_COMMIT = new AtomicLong();
    private static final AtomicLong PARKED = new AtomicLong();
    private static final AtomicLong CHECKPOINTS = new AtomicLong();

    private PipelineProgress() {
    }

    /** A document is in the job's state (again, after a replay: that changes nothing). */
    static void documentStored(String documentId) {
        if (tracking && STORED.putIfAbsent(documentId, -1L) == null) {
            FIRST_STORED.compareAndSet(0, System.nanoTime());
            touch();
        }
    }

    /**
     * A screening of a document under a version is under way in a scoring stage, possibly one restored from a
     * checkpoint (whose document this JVM has not seen arrive): the document counts as stored until the outcome
     * is committed.
     */
    static void screeningStarted(String documentId, long version) {
        documentStored(documentId);
        versionSeen(version);
    }

    /** The outcome of screening a document under a version is in a completed checkpoint. */
    static void screeningCommitted(String documentId, long version) {
        if (!tracking) {
            return;
        }
        STORED.merge(documentId, version, Math::max);
        Instant now = Instant.now();
        FIRST_COMMIT.putIfAbsent(version, now);
        LAST_COMMIT_OF.put(version, now);
        COMMITTED_OF.computeIfAbsent(version, v -> new AtomicLong()).incrementAndGet();
        COMMITTED.incrementAndGet();
        LAST_COMMIT.set(System.nanoTime());
        touch();
    }

    /**
     * Re-screens parked in a pacer changed by {@code delta}: parked or released, or restored from a checkpoint
     * (their documents are not in this JVM's progress until they are released).
     */
    static void rescreensParked(long delta) {
        if (PARKED.addAndGet(delta) == 0) {
            touch();
        }
    }

    /**
     * A Flink checkpoint completed: every operator of the job is running, so one restored from a checkpoint has
     * resumed its in-flight screenings and reported its parked re-screens by now.
     */
    static void checkpointCompleted() {
        if (CHECKPOINTS.incrementAndGet() == 1) {
            touch(); // idleness counts from the moment the whole job is known to run
        }
    }

    /** A policy version was accepted; {@code announced} is the time its announcement gives, if any. */
    static void versionSeen(long version, Instant announced) {
        if (announced != null) {
            ANNOUNCED.putIfAbsent(version, announced);
        }
        versionSeen(version);
    }

    static void versionSeen(long version) {
        if (LATEST_VERSION.getAndAccumulate(version, Math::max) < version) {
            touch();
        }
    }

    /** A document's entropy was scored: its tokens, and the tokens of all its windows' forward passes. */
    static void entropyScored(long documentTokens, long forwardTokens) {
        DOCUMENT_TOKENS.addAndGet(documentTokens);
        FORWARD_TOKENS.addAndGet(forwardTokens);
    }

    /** Verification ran forward passes over this many tokens and found this many positives. */
    static void verified(long forwardTokens) {
        FORWARD_TOKENS.addAndGet(forwardTokens);
    }

    static void positivesFound(long count) {
        POSITIVES.addAndGet(count);
    }

    private static void touch() {
        LAST_CHANGE.set(System.nanoTime());
    }

    /**
     * A reading of the counters.
     *
     * @param documents documents stored
     * @param upToDate documents whose screening under {@code latestVersion} is committed
     * @param committed screenings committed, all versions (a replayed one counts again)
     * @param latestVersion the newest accepted policy version, -1 before any
     * @param parkedRescreens re-screens waiting in a pacer
     * @param checkpointsCompleted Flink checkpoints completed since the run started
     * @param secondsSinceChange time since any of these last changed
     */
    public record Snapshot(long documents, long upToDate, long committed, long latestVersion, long parkedRescreens,
            long checkpointsCompleted, double secondsSinceChange) {
        /** A policy is in force, every stored document is committed under it and no re-screen waits. */
        public boolean quiescent() {
            return latestVersion >= 0 && documents > 0 && upToDate == documents && parkedRescreens == 0;
        }

        /**
         * Nothing left to do: quiescent, or, for a job restored from a checkpoint, running (a checkpoint completed
         * since the start) with no document in flight and none parked, its work done before it was stopped.
         */
        public boolean settled(boolean restored) {
            return quiescent() || restored && documents == 0 && parkedRescreens == 0 && checkpointsCompleted > 0;
        }
    }

    /** The current counters. */
    public static Snapshot snapshot() {
        long latest = LATEST_VERSION.get();
        long upToDate = STORED.values().stream().filter(v -> v >= latest).count();
        return new Snapshot(STORED.size(), upToDate, COMMITTED.get(), latest, PARKED.get(), CHECKPOINTS.get(),
                (System.nanoTime() - LAST_CHANGE.get()) / 1e9);
    }

    /** The newest policy version this JVM has seen, -1 before any. */
    public static long latestVersion() {
        return LATEST_VERSION.get();
    }

    /**
     * For each version with a known announcement time and a committed screening: the time from the
     * announcement to the first committed screening under it (the version-advance latency, watcher polling,
     * checkpoint loading and the checkpoint interval included).
     */
    public static SortedMap<Long, Duration> versionLatencies() {
        SortedMap<Long, Duration> latencies = new TreeMap<>();
        FIRST_COMMIT.forEach((version, first) -> {
            Instant announced = ANNOUNCED.get(version);
            if (announced != null) {
                latencies.put(version, Duration.between(announced, first));
            }
        });
        return latencies;
    }

    /**
     * One policy version's screenings in this JVM.
     *
     * @param version the version
     * @param announced when its announcement says it was published, or null when unknown
     * @param firstCommit when its first screening was committed
     * @param lastCommit when its last screening so far was committed
     * @param screenings screenings under it committed (a replayed one counts again)
     */
    public record VersionProgress(long version, Instant announced, Instant firstCommit, Instant lastCommit,
            long screenings) {
        /** Announcement to first committed screening (the hot-swap latency), or null when unknown. */
        public Duration swapLatency() {
            return announced == null ? null : Duration.between(announced, firstCommit);
        }
    }

    /** Every version with a committed screening, ascending. */
    public static java.util.List<VersionProgress> versions() {
        java.util.List<VersionProgress> result = new java.util.ArrayList<>();
        new TreeMap<>(FIRST_COMMIT).forEach((version, first) -> result.add(new VersionProgress(version,
                ANNOUNCED.get(version), first, LAST_COMMIT_OF.getOrDefault(version, first),
                COMMITTED_OF.getOrDefault(version, new AtomicLong()).get())));
        return result;
    }

    /**
     * What the job did between the first stored document and the last committed screening.
     *
     * @param seconds that time span
     * @param screenings committed screenings
     * @param documentTokens document tokens whose entropy was scored
     * @param forwardTokens tokens through the model (entropy windows with their left context, and verification)
     * @param positives positive contexts found
     */
    public record Throughput(double seconds, long screenings, long documentTokens, long forwardTokens,
            long positives) {
    }

    /** The work done so far (this JVM). */
    public static Throughput throughput() {
        long first = FIRST_STORED.get();
        long last = LAST_COMMIT.get();
        double seconds = first == 0 || last < first ? 0 : (last - first) / 1e9;
        return new Throughput(seconds, COMMITTED.get(), DOCUMENT_TOKENS.get(), FORWARD_TOKENS.get(), POSITIVES.get());
    }

    /** Forgets everything and turns per-document tracking on (at the start of a run in this JVM). */
    public static void reset() {
        tracking = true;
        STORED.clear();
        COMMITTED.set(0);
        LATEST_VERSION.set(-1);
        ANNOUNCED.clear();
        DOCUMENT_TOKENS.set(0);
        FORWARD_TOKENS.set(0);
        POSITIVES.set(0);
        FIRST_STORED.set(0);
        LAST_COMMIT.set(0);
        FIRST_COMMIT.clear();
        LAST_COMMIT_OF.clear();
        COMMITTED_OF.clear();
        PARKED.set(0);
        CHECKPOINTS.set(0);
        touch();
    }

    /**
     * Waits until every stored document is committed under the newest version and nothing changed for
     * {@code idle}; fails if the job ends first.
     */
    public static void waitUntilIdle(org.apache.flink.core.execution.JobClient client, Duration idle) throws Exception {
        waitUntilIdle(client, idle, false);
    }

    /**
     * As {@link #waitUntilIdle(org.apache.flink.core.execution.JobClient, Duration)}; with {@code restored}, a job
     * that has not stored or screened anything in this JVM and has nothing parked (it was restored with its work
     * done) is idle too, once a checkpoint shows that all its operators run.
     */
    public static void waitUntilIdle(org.apache.flink.core.execution.JobClient client, Duration idle,
            boolean restored) throws Exception {
        while (true) {
            Thread.sleep(500);
            if (client.getJobStatus().get().isGloballyTerminalState()) {
                throw new IllegalStateException("the job ended before it became idle: " + client.getJobStatus().get());
            }
            Snapshot s = snapshot();
            if (s.settled(restored) && s.secondsSinceChange() >= idle.toMillis() / 1000.0) {
                return;
            }
        }
    }

}
