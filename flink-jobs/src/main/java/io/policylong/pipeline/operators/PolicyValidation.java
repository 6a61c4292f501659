package io.policylong.pipeline.operators;

import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.staging.LocalStaging;
import io.policylong.pipeline.tasks.PolicyVerdict;
import io.policylong.policy.CheckpointValidator;
import io.policylong.records.PolicyUpdate;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Validates each policy update once, off the task thread, before it is broadcast: stages the checkpoint
 * locally (a remote one is copied into this TaskManager's cache), checks the announced sha256 on those files,
 * then the configuration, tokenizer and tensor shapes. Runs at parallelism 1, in order, so every subtask of the
 * scheduler receives the same accepted updates in the same order and reaches the same decision; hashing a
 * large checkpoint never holds up checkpoint barriers. Never fails the job: every failure is a rejection with
 * its reason.
 */
public final class PolicyValidation extends RichAsyncFunction<PolicyUpdate, PolicyVerdict> {
    private static final long serialVersionUID = 1L;

    private final PipelineConfig config;
    private transient ExecutorService executor;
    private transient LocalStaging staging;

    public PolicyValidation(PipelineConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext context) {
        executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "policy-validation");
            t.setDaemon(true);
            return t;
        });
        staging = LocalStaging.forCache(config.runtime().cacheDirectory(), config.policy().residentVersions() + 2);
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    @Override
    public void asyncInvoke(PolicyUpdate update, ResultFuture<PolicyVerdict> result) {
        CompletableFuture.supplyAsync(() -> validate(update), executor)
                .whenComplete((verdict, error) -> result.complete(List.of(error == null ? verdict
                        : PolicyVerdict.rejected(update, "checkpoint rejected: " + EntropyStage.rootMessage(error)))));
    }

    private PolicyVerdict validate(PolicyUpdate update) {
        try {
            Path directory = staging.checkpoint(update.version(), update.uri(), update.sha256());
            CheckpointValidator.validate(directory, null);
            return PolicyVerdict.accepted(update);
        } catch (Exception e) {
            return PolicyVerdict.rejected(update, "checkpoint rejected: " + EntropyStage.rootMessage(e));
        }
    }

    @Override
    public void timeout(PolicyUpdate update, ResultFuture<PolicyVerdict> result) {
        // Must complete the future, or the operator waits forever.
        result.complete(List.of(PolicyVerdict.rejected(update, "checkpoint validation timed out after "
                + config.policy().validationTimeout())));
    }
}
