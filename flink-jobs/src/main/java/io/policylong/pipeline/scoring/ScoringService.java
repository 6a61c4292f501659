package io.policylong.pipeline.scoring;

import ai.djl.Device;
import io.policylong.model.runtime.ComputeDevice;
import io.policylong.model.scoring.CheckpointRegistry;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.staging.LocalStaging;
import io.policylong.pipeline.tasks.PolicyRef;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The in-process scorer of one TaskManager, shared by every parallel operator instance in the JVM: one
 * checkpoint registry (policy versions loaded on demand, the newest kept resident) and one micro-batcher per
 * loaded version, so requests from all operators are batched together. A version is loaded from its local
 * staging: a remote checkpoint is copied into the TaskManager's cache once, and the weights loaded are checked
 * against the announced sha256 first. Operators {@link #acquire} it in {@code open} and {@link #release} it in
 * {@code close}; it shuts down with the last one. Sharing is an optimisation only: every request names its
 * version, so nothing depends on which operator loaded what.
 */
public final class ScoringService implements ScoringBackend {
    private static final Map<Key, ScoringService> SERVICES = new HashMap<>();

    private record Key(PipelineConfig.Scoring scoring, int residentVersions, String cacheDirectory, String device) {
    }

    private final Key key;
    private final ExecutorService loader;
    private final CheckpointRegistry<PolicyRef> registry;
    private int references;

    private ScoringService(Key key) {
        this.key = key;
        this.loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "checkpoint-loader");
            t.setDaemon(true);
            return t;
        });
        PipelineConfig.Scoring s = key.scoring();
        LocalStaging staging = LocalStaging.forCache(key.cacheDirectory(), key.residentVersions() + 2);
        Device device = resolve(key.device());
        this.registry = new CheckpointRegistry<>(key.residentVersions(), (version, policy) -> LoadedCheckpoint.load(
                staging.checkpoint(version, policy.uri(), policy.sha256()), device, s.chunks(), s.maxBatchTokens()),
                loader);
    }

    /**
     * The service for this job's settings in this JVM, created on first use.
     *
     * @param grantedGpus the GPU indices Flink granted to this TaskManager ({@link ScoringDevice})
     */
    public static synchronized ScoringService acquire(PipelineConfig config, List<String> grantedGpus) {
        EngineSettings.applyDefaults();
        ScoringService service = SERVICES.computeIfAbsent(new Key(config.scoring(),
                config.policy().residentVersions(), config.runtime().cacheDirectory(),
                ScoringDevice.choose(config.scoring().device(), grantedGpus)), ScoringService::new);
        service.references++;
        return service;
    }

    private static Device resolve(String device) {
        try {
            return ComputeDevice.resolve(device);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("scoring device " + device + ": " + e.getMessage() + (device.startsWith(
                    "gpu:") ? " (a GPU granted through Flink's external resource '" + ScoringDevice.EXTERNAL_RESOURCE
                    + "' needs the GPU build of the engine: PYTORCH_LIBRARY_PATH, PYTORCH_VERSION, PYTORCH_FLAVOR)"
                    : ""), e);
        }
    }

    /** Gives up a reference; the last one frees every loaded checkpoint. */
    @Override
    public void release() {
        synchronized (ScoringService.class) {
            if (--references > 0) {
                return;
            }
            SERVICES.remove(key);
        }
        registry.close();
        loader.shutdown();
    }

    /**
     * The policy versions loaded by every scoring service of this JVM (a diagnostic: what a TaskManager holds in
     * memory).
     */
    public static synchronized SortedSet<Long> loadedVersions() {
        SortedSet<Long> versions = new TreeSet<>();
        for (ScoringService s : SERVICES.values()) {
            versions.addAll(s.registry.residentVersions());
        }
        return versions;
    }

    /** A hold on the checkpoint of a policy, loading it if needed; it scores through the version's micro-batcher. */
    @Override
    public CompletableFuture<PolicyScorer> lease(PolicyRef policy) {
        return registry.acquire(policy.version(), policy).thenApply(lease -> inProcess(lease, key.scoring()
                .batching()));
    }

    /** A policy scorer over a lease on a loaded checkpoint. */
    public static PolicyScorer inProcess(CheckpointRegistry<PolicyRef>.Lease lease,
            io.policylong.model.scoring.BatchingSettings batching) {
        return new PolicyScorer() {
            @Override
            public long version() {
                return lease.version();
            }

            @Override
            public io.policylong.model.tokenizer.CheckpointTokenizer tokenizer() {
                return lease.checkpoint().tokenizer();
            }

            @Override
            public CompletableFuture<io.policylong.model.scoring.ScoreResult> submit(
                    io.policylong.model.scoring.ScoreRequest request) throws InterruptedException {
                return lease.checkpoint().batcher(batching).submit(request);
            }

            @Override
            public void close() {
                lease.close();
            }
        };
    }

    /** The batching settings of the loaded checkpoints. */
    public PipelineConfig.Scoring settings() {
        return key.scoring();
    }
}
