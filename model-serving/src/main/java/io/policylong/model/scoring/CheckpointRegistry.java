package io.policylong.model.scoring;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Checkpoints resident for scoring, by policy version. {@link #acquire} loads a version on first use and
 * returns a {@link Lease}; concurrent requests for a version that is still loading wait for the same load.
 * At most {@code maxResident} versions stay loaded when no lease needs more: the newest ones are kept, and an
 * older version is freed as soon as no lease holds it (closed on the registry's executor, so a lease may be
 * released from any thread, the version's own batcher thread included). A load that fails is reported to every waiter and forgotten (a later
 * request tries again); versions already loaded are not touched. A caller that cancels or times out its
 * request releases its claim on the version.
 */
public final class CheckpointRegistry<S> implements AutoCloseable {

    /** Loads one checkpoint version from its source (a directory, or a description of where it is). */
    @FunctionalInterface
    public interface Loader<S> {
        LoadedCheckpoint load(long version, S source) throws Exception;
    }

    private final int maxResident;
    private final Loader<S> loader;
    private final Executor executor;
    private final Map<Long, Entry<S>> entries = new TreeMap<>();
    private boolean closed;

    private static final class Entry<S> {
        final long version;
        final S source;
        final CompletableFuture<LoadedCheckpoint> loading = new CompletableFuture<>();
        LoadedCheckpoint checkpoint;
        int leases;

        Entry(long version, S source) {
            this.version = version;
            this.source = source;
        }
    }

    /** A version that could not be loaded; the message names the version, directory and reason. */
    public static final class LoadFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LoadFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A hold on a loaded version; close it when the request is done. */
    public final class Lease implements AutoCloseable {
        private final Entry<S> entry;
        private boolean released;

        private Lease(Entry<S> entry) {
            this.entry = entry;
        }

        /** The policy version. */
        public long version() {
            return entry.version;
        }

        /** The loaded checkpoint; valid until the lease is closed. */
        public LoadedCheckpoint checkpoint() {
            return entry.checkpoint;
        }

        @Override
        public void close() {
            synchronized (CheckpointRegistry.this) {
                if (released) {
                    return;
                }
                released = true;
                entry.leases--;
            }
            evict();
        }
    }

    /**
     * @param maxResident versions kept loaded when no lease needs more
     * @param loader what loads a version
     * @param executor where loads run
     */
    public CheckpointRegistry(int maxResident, Loader<S> loader, Executor executor) {
        if (maxResident < 1) {
            throw new IllegalArgumentException("maxResident must be at least 1");
        }
        this.maxResident = maxResident;
        this.loader = Objects.requireNonNull(loader);
        this.executor = Objects.requireNonNull(executor);
    }

    /**
     * A lease on a version, loading it from {@code source} if it is not resident. The future fails with the
     * loader's error if the load fails, or with an IllegalArgumentException if the version is already known
     * under another source.
     */
    @SuppressWarnings("unchecked") // a Path source is normalized into a Path
    public CompletableFuture<Lease> acquire(long version, S source) {
        S normalized = source instanceof Path p ? (S) p.toAbsolutePath().normalize() : source;
        Entry<S> entry;
        boolean start = false;
        synchronized (this) {
            if (closed) {
                return CompletableFuture.failedFuture(new IllegalStateException("the checkpoint registry is closed"));
            }
            entry = entries.get(version);
            if (entry != null && !entry.source.equals(normalized)) {
                return CompletableFuture.failedFuture(new IllegalArgumentException("policy version " + version
                        + " is already loaded from " + entry.source + ", not " + normalized));
            }
            if (entry == null) {
                entry = new Entry<>(version, normalized);
                entries.put(version, entry);
                start = true;
            }
            // Count the lease now, even while the version is loading, so that it cannot be evicted between the
            // end of its load and the moment the waiter receives it.
            entry.leases++;
            if (entry.checkpoint != null) {
                return CompletableFuture.completedFuture(new Lease(entry));
            }
        }
        if (start) {
            Entry<S> loadingEntry = entry;
            try {
                executor.execute(() -> load(loadingEntry));
            } catch (RuntimeException e) {
                fail(loadingEntry, e);
            }
        }
        Entry<S> waiting = entry;
        CompletableFuture<Lease> result = new CompletableFuture<>();
        entry.loading.whenComplete((checkpoint, error) -> {
            if (error != null) {
                result.completeExceptionally(error);
                return;
            }
            Lease lease = new Lease(waiting);
            if (!result.complete(lease)) {
                lease.close(); // the caller gave up (cancelled or timed out): release what was counted for it
            }
        });
        return result;
    }

    private void fail(Entry<S> entry, Throwable cause) {
        synchronized (this) {
            entries.remove(entry.version, entry);
        }
        entry.loading.completeExceptionally(new LoadFailedException("policy version " + entry.version + " ("
                + entry.source + ") failed to load: " + cause.getMessage(), cause));
    }

    private void load(Entry<S> entry) {
        LoadedCheckpoint checkpoint;
        try {
            checkpoint = loader.load(entry.version, entry.source);
        } catch (Exception | Error e) {
            fail(entry, e);
            return;
        }
        boolean discard;
        synchronized (this) {
            discard = closed;
            if (!discard) {
                entry.checkpoint = checkpoint;
            }
        }
        if (discard) {
            checkpoint.close();
            entry.loading.completeExceptionally(new IllegalStateException("the checkpoint registry is closed"));
            return;
        }
        entry.loading.complete(checkpoint);
        evict();
    }

    /** Frees the oldest unleased versions while more than {@code maxResident} are loaded. */
    private void evict() {
        List<LoadedCheckpoint> toClose = new ArrayList<>();
        synchronized (this) {
            TreeSet<Long> loaded = new TreeSet<>();
            for (Entry<S> e : entries.values()) {
                if (e.checkpoint != null) {
                    loaded.add(e.version);
                }
            }
            // Only versions older than the newest maxResident are candidates (all of them once the registry is
            // closed), and only while no lease holds them.
            int candidates = closed ? loaded.size() : loaded.size() - maxResident;
            for (Long version : loaded) {
                if (candidates-- <= 0) {
                    break;
                }
                Entry<S> e = entries.get(version);
                if (e.leases == 0) {
                    entries.remove(version);
                    toClose.add(e.checkpoint);
                }
            }
        }
        for (LoadedCheckpoint checkpoint : toClose) {
            // Never on the caller's thread: the last lease of a version is often released on that version's own
            // batcher thread (from a completion stage), which cannot close its own batcher.
            try {
                executor.execute(checkpoint::close);
            } catch (RejectedExecutionException e) {
                checkpoint.close(); // the executor is shut down: the registry is closing, on an ordinary thread
            }
        }
    }

    /** Versions currently loaded, oldest first. */
    public synchronized List<Long> residentVersions() {
        List<Long> versions = new ArrayList<>();
        for (Entry e : entries.values()) {
            if (e.checkpoint != null) {
                versions.add(e.version);
            }
        }
        return versions;
    }

    /**
     * Stops serving: later requests fail, unleased versions are freed now, and each leased version is freed
     * when its last lease is closed (a forward pass still running on it is never pulled from under it).
     */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        evict();
    }
}
