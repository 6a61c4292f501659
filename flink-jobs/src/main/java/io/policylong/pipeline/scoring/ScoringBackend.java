package io.policylong.pipeline.scoring;

import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.tasks.PolicyRef;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where the scoring stages of a TaskManager score: the model in this JVM ({@link ScoringService}) or scoring
 * servers ({@link RemoteScoring}), shared by every operator instance of the JVM. Operators {@link #acquire} it in
 * {@code open} and {@link #release} it in {@code close}.
 */
public interface ScoringBackend {
    /** A hold on a policy version, ready to score (loading what it needs first). */
    CompletableFuture<PolicyScorer> lease(PolicyRef policy);

    /** Gives up a reference; the last one shuts the backend down. */
    void release();

    /**
     * The backend of this job's settings in this JVM, created on first use.
     *
     * @param grantedGpus the GPU indices Flink granted to this TaskManager (in-process scoring only)
     */
    static ScoringBackend acquire(PipelineConfig config, List<String> grantedGpus) {
        return config.scoring().isRemote() ? RemoteScoring.acquire(config) : ScoringService.acquire(config, grantedGpus);
    }
}
