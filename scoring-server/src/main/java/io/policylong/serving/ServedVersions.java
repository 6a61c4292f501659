package io.policylong.serving;

import ai.djl.Device;
import io.policylong.model.config.ModelFlops;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.ComputePrecision;
import io.policylong.model.scoring.BatchScorer;
import io.policylong.model.scoring.BatchingSettings;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.scoring.MicroBatcher;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.policy.CheckpointDigest;
import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.records.PolicyUpdate;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The policy versions a scoring server holds, each a loaded checkpoint with one micro-batcher that batches the
 * requests of every client and connection. A version is loaded through {@link #load} (the repository API) or, when
 * a request names one that is not loaded and a policies directory is set, on demand from its descriptor there;
 * either way the weights are checked against the announced sha256 before they are used. Loads run one at a time
 * on a loader thread; concurrent requests for a version that is loading wait for the same load. Beyond
 * {@code maxResident} versions the lowest one is unloaded (its queued requests are scored first).
 */
public final class ServedVersions implements AutoCloseable {
    /** A version that is not loaded and cannot be loaded on demand. */
    public static final class UnknownVersionException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnknownVersionException(String message) {
            super(message);
        }
    }

    /**
     * A loaded version.
     *
     * @param uri where its checkpoint was loaded from
     * @param sha256 its weights' digest
     * @param loadSeconds how long the load took
     */
    public record Served(long version, String uri, String sha256, LoadedCheckpoint checkpoint, MicroBatcher batcher,
            double loadSeconds) {
    }

    private final Device device;
    private final ComputePrecision precision;
    private final ChunkSettings chunks;
    private final BatchingSettings batching;
    private final int maxResident;
    private final Path policies;
    private volatile ServerMetrics metrics;
    private final Map<Long, CompletableFuture<Served>> versions = new TreeMap<>();
    private final ExecutorService loader = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "version-loader");
        t.setDaemon(true);
        return t;
    });
    /** Frees run here, not behind loads waiting on the loader: a version evicted for another is freed at once. */
    private final ExecutorService freer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "version-freer");
        t.setDaemon(true);
        return t;
    });
    private boolean closed;

    /**
     * @param policies a checkpoints directory of policy descriptors to load requested versions from, or null
     */
    public ServedVersions(Device device, ChunkSettings chunks, BatchingSettings batching, int maxResident,
            Path policies) {
        this(device, ComputePrecision.FLOAT32, chunks, batching, maxResident, policies);
    }

    /**
     * @param precision what the forward passes run in (entropy and log-probabilities are float32 either way)
     * @param policies a checkpoints directory of policy descriptors to load requested versions from, or null
     */
    public ServedVersions(Device device, ComputePrecision precision, ChunkSettings chunks, BatchingSettings batching,
            int maxResident, Path policies) {
        if (maxResident < 1) {
            throw new IllegalArgumentException("at least one version must fit");
        }
        this.device = device;
        this.precision = precision;
        this.chunks = chunks;
        this.batching = batching;
        this.maxResident = maxResident;
        this.policies = policies;
    }

    /** Where batch and load measurements go (set once, before the first load). */
    public void reportTo(ServerMetrics serverMetrics) {
        metrics = serverMetrics;
    }

    /**
     * Loads a version from a local checkpoint (a path or {@code file:} URI) after checking its weights' digest; a
     * version already loaded from the same place with the same digest is left as it is.
     *
     * @throws IllegalArgumentException when the version is loaded from elsewhere, or the URI is not local
     */
    public synchronized CompletableFuture<Served> load(long version, String uri, String sha256) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the server is shutting down"));
        }
        CompletableFuture<Served> existing = versions.get(version);
        if (existing != null) {
            return existing.thenApply(served -> {
                if (!served.sha256().equals(sha256)) {
                    throw new IllegalArgumentException("version " + version + " is loaded with weights " + served
                            .sha256() + ", not " + sha256 + "; unload it first");
                }
                return served;
            });
        }
        Path directory = localDirectory(uri);
        CompletableFuture<Served> loading = CompletableFuture.supplyAsync(() -> loadNow(version, uri, directory,
                sha256), loader);
        versions.put(version, loading);
        loading.whenComplete((served, error) -> {
            if (error != null) {
                forget(version, loading); // a failed load is not remembered: a later request tries again
            } else {
                evictBeyondLimit(version);
            }
        });
        return loading;
    }

    /**
     * The version, loaded or loading; when it is neither and a policies directory is set, loaded from its
     * descriptor there.
     *
     * @throws UnknownVersionException when it is not loaded and cannot be
     */
    public synchronized CompletableFuture<Served> get(long version) {
        CompletableFuture<Served> served = versions.get(version);
        if (served != null) {
            return served;
        }
        if (policies == null) {
            throw new UnknownVersionException("policy version " + version + " is not loaded (load it through "
                    + "/v2/repository/models/{name}/load)");
        }
        Path descriptor = policies.resolve(PolicyDescriptorFiles.fileName(version));
        if (!Files.isRegularFile(descriptor)) {
            throw new UnknownVersionException("policy version " + version + " is not loaded and " + policies
                    + " has no descriptor of it");
        }
        PolicyUpdate update;
        try {
            update = PolicyDescriptorFiles.read(descriptor);
        } catch (Exception e) {
            throw new UnknownVersionException("policy version " + version + ": its descriptor " + descriptor
                    + " cannot be read: " + e.getMessage());
        }
        return load(version, update.uri(), update.sha256());
    }

    /**
     * Unloads a version: no new request reaches it, the queued ones are scored, then its weights are freed.
     *
     * @return whether it was loaded
     */
    public boolean unload(long version) {
        CompletableFuture<Served> removed;
        synchronized (this) {
            removed = versions.remove(version);
        }
        if (removed == null) {
            return false;
        }
        removed.thenAcceptAsync(this::free, freer);
        return true;
    }

    /** The versions loaded (not those still loading), ascending. */
    public synchronized List<Served> loaded() {
        List<Served> result = new ArrayList<>();
        for (CompletableFuture<Served> f : versions.values()) {
            if (f.isDone() && !f.isCompletedExceptionally()) {
                result.add(f.join());
            }
        }
        return result;
    }

    /** Requests waiting in every loaded version's queue. */
    public int queued() {
        return loaded().stream().mapToInt(s -> s.batcher().queued()).sum();
    }

    private Served loadNow(long version, String uri, Path directory, String sha256) {
        long start = System.nanoTime();
        try {
            CheckpointDigest.verify(directory, sha256);
            LoadedCheckpoint checkpoint = LoadedCheckpoint.load(directory, device, chunks, batching.maxBatchTokens(),
                    precision);
            BatchScorer measured = requests -> measure(checkpoint, requests);
            MicroBatcher batcher = new MicroBatcher(measured, checkpoint.scorer()::validate, batching.maxBatchTokens(),
                    batching.maxDelay(), batching.queueCapacity(), "batcher-v" + version);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (metrics != null) {
                metrics.loaded(version, seconds);
            }
            return new Served(version, uri, sha256, checkpoint, batcher, seconds);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("policy version " + version + " could not be loaded from " + uri + ": "
                    + e.getMessage(), e);
        }
    }

    private List<ScoreResult> measure(LoadedCheckpoint checkpoint, List<ScoreRequest> requests) {
        List<ScoreResult> results = checkpoint.scorer().score(requests);
        for (ScoreResult r : results) {
            for (int i = 0; i < r.size(); i++) {
                if (!Float.isFinite(r.entropy()[i]) || Float.isNaN(r.logprob()[i])) {
                    // A reduced-precision forward pass that overflowed: fail rather than answer with garbage.
                    throw new IllegalStateException("the model produced a non-finite score (in " + precision.label()
                            + ", activations can overflow: serve with --compute-dtype float32)");
                }
            }
        }
        if (metrics != null) {
            long tokens = 0;
            double flops = 0;
            for (ScoreRequest r : requests) {
                tokens += r.length();
                flops += ModelFlops.forward(checkpoint.config(), r.length(), r.scoredCount());
            }
            metrics.batch(requests.size(), tokens, batching.maxBatchTokens(), flops);
        }
        return results;
    }

    private static Path localDirectory(String uri) {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("the checkpoint URI is missing");
        }
        if (uri.startsWith("file:")) {
            return Path.of(URI.create(uri));
        }
        if (uri.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
            throw new IllegalArgumentException("only local checkpoints (a path or file: URI) can be loaded, not " + uri);
        }
        return Path.of(uri);
    }

    private synchronized void forget(long version, CompletableFuture<Served> loading) {
        versions.remove(version, loading);
    }

    /**
     * Unloads the lowest loaded versions beyond the limit, never the one just loaded (it was loaded because a request
     * needs it: evicting it would have that request load it again, and again).
     */
    private void evictBeyondLimit(long justLoaded) {
        List<Long> evict = new ArrayList<>();
        synchronized (this) {
            List<Long> done = versions.entrySet().stream().filter(e -> e.getValue().isDone()
                    && !e.getValue().isCompletedExceptionally()).map(Map.Entry::getKey).toList();
            int excess = done.size() - maxResident;
            for (int i = 0; i < done.size() && evict.size() < excess; i++) {
                if (done.get(i) != justLoaded) {
                    evict.add(done.get(i));
                }
            }
        }
        evict.forEach(this::unload);
    }

    private void free(Served served) {
        served.batcher().close(); // scores what is queued first
        served.checkpoint().close();
        if (metrics != null) {
            metrics.unloaded(served.version());
        }
    }

    /** Scores what is queued for every version, then frees them all. */
    @Override
    public void close() {
        List<CompletableFuture<Served>> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(versions.values());
            versions.clear();
        }
        for (CompletableFuture<Served> f : all) {
            try {
                free(f.join());
            } catch (RuntimeException e) {
                // a version that failed to load holds nothing
            }
        }
        loader.shutdown();
        freer.shutdown();
        try {
            freer.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES); // evictions already under way
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
