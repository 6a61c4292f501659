package io.policylong.pipeline.scoring;

import io.policylong.records.PolicyUpdate;
import io.policylong.model.runtime.ComputeDevice;
import io.policylong.model.scoring.CheckpointRegistry;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.tasks.PolicyRef;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The in-process scorer of one TaskManager, shared by every parallel operator instance in the JVM: one
 * checkpoint registry (policy versions loaded on demand, the newest kept resident) and one micro-batcher per
 * loaded version, so requests from all operators are batched together. Operators {@link #acquire} it in
 * {@code open} and {@link #release} it in {@code close}; it shuts down with the last one.
 */
public final class ScoringService {
    private static final Map<Key, ScoringService> SERVICES = new HashMap<>();

    private record Key(PipelineConfig.Scoring scoring, int residentVersions) {
    }

    private final Key key;
    private final ExecutorService loader;
    private final CheckpointRegistry registry;
    private int references;

    private ScoringService(Key key) {
        this.key = key;
        this.loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "checkpoint-loader");
            t.setDaemon(true);
            return t;
        });
        PipelineConfig.Scoring s = key.scoring();
        this.registry = new CheckpointRegistry(key.residentVersions(), (version, directory) -> LoadedCheckpoint.load(
                directory, ComputeDevice.resolve(s.device()), s.chunks(), s.maxBatchTokens()), loader);
    }

    /** The service for these settings in this JVM, created on first use. */
    public static synchronized ScoringService acquire(PipelineConfig.Scoring scoring, int residentVersions) {
        ScoringService service = SERVICES.computeIfAbsent(new Key(scoring, residentVersions), ScoringService::new);
        service.references++;
        return service;
    }

    /** Gives up a reference; the last one frees every loaded checkpoint. */
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

    /** A lease on the checkpoint of a policy, loading it if needed. */
    public CompletableFuture<CheckpointRegistry.Lease> lease(PolicyRef policy) {
        PolicyUpdate update = new PolicyUpdate(policy.version(), policy.uri(), policy.sha256(), null, null, null);
        return registry.acquire(policy.version(), update.checkpointDirectory());
    }

    /** The batching settings of the loaded checkpoints. */
    public PipelineConfig.Scoring settings() {
        return key.scoring();
    }
}
