package io.policylong.pipeline.operators;

import io.policylong.pipeline.config.Locations;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.scoring.LeasedScoring;
import io.policylong.pipeline.staging.LocalStaging;
import io.policylong.pipeline.tasks.PolicyVerdict;
import io.policylong.policy.CheckpointValidator;
import io.policylong.records.PolicyUpdate;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Validates each policy update once, off the task thread, before it is broadcast: stages the checkpoint
 * locally (a remote one is copied into this TaskManager's cache), checks the announced sha256 on those files,
 * then the configuration, tokenizer and tensor shapes. Runs at parallelism 1, in order, so every subtask of the
 * scheduler receives the same accepted updates in the same order and reaches the same decision; hashing a
 * large checkpoint never holds up checkpoint barriers. An update with a newer one already queued behind it is
 * skipped unvalidated (superseded). Never fails the job: every failure is a rejection with its reason.
 */
public final class PolicyValidation extends RichAsyncFunction<PolicyUpdate, PolicyVerdict> {
    private static final long serialVersionUID = 1L;

    /** Where validations run, one at a time (tests supply their own). */
    interface ExecutorFactory extends java.io.Serializable {
        ExecutorService create();
    }

    private final PipelineConfig config;
    private final ExecutorFactory executors;
    /** Takes the validations one at a time, in order. */
    private transient ExecutorService executor;
    /** Runs each validation in its own thread, so one that hangs past the timeout can be abandoned. */
    private transient ExecutorService workers;
    private transient LocalStaging staging;
    /**
     * Updates handed over and not validated yet, by arrival: validation runs later, in order, on the executor,
     * and skips an update when a newer version arrived after it.
     */
    private transient ConcurrentSkipListMap<Long, Long> pending;
    private transient long arrivals;

    public PolicyValidation(PipelineConfig config) {
        this(config, () -> Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "policy-validation");
            t.setDaemon(true);
            return t;
        }));
    }

    PolicyValidation(PipelineConfig config, ExecutorFactory executors) {
        this.config = config;
        this.executors = executors;
    }

    @Override
    public void open(OpenContext context) {
        executor = executors.create();
        workers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "policy-validation-worker");
            t.setDaemon(true);
            return t;
        });
        staging = LocalStaging.forCache(config.runtime().cacheDirectory(), config.policy().residentVersions() + 2);
        pending = new ConcurrentSkipListMap<>();
        arrivals = 0;
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
        if (workers != null) {
            workers.shutdownNow();
        }
    }

    @Override
    public void asyncInvoke(PolicyUpdate update, ResultFuture<PolicyVerdict> result) {
        long arrival = arrivals++;
        pending.put(arrival, update.version());
        CompletableFuture.supplyAsync(() -> validateInTime(arrival, update), executor)
                .whenComplete((verdict, error) -> result.complete(List.of(error == null ? verdict
                        : PolicyVerdict.rejected(update, "checkpoint rejected: " + LeasedScoring.rootMessage(error)))));
    }

    /** Validates within {@code policy.validation-timeout}, counted from the start of this validation. */
    private PolicyVerdict validateInTime(long arrival, PolicyUpdate update) {
        Future<PolicyVerdict> running = workers.submit(() -> validate(arrival, update));
        try {
            return running.get(config.policy().validationTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            running.cancel(true);
            return PolicyVerdict.rejected(update, "checkpoint validation timed out after "
                    + config.policy().validationTimeout());
        } catch (ExecutionException e) {
            return PolicyVerdict.rejected(update, "checkpoint rejected: " + LeasedScoring.rootMessage(e));
        } catch (InterruptedException e) {
            running.cancel(true);
            Thread.currentThread().interrupt();
            return PolicyVerdict.rejected(update, "checkpoint validation was interrupted");
        }
    }

    private PolicyVerdict validate(long arrival, PolicyUpdate update) {
        pending.remove(arrival);
        long newer = pending.tailMap(arrival).values().stream().mapToLong(Long::longValue).max().orElse(-1);
        if (newer > update.version()) {
            // A newer announcement is already queued behind this one: do not copy and hash a checkpoint that would
            // be replaced at once (a replayed policy topic holds every version ever announced). An older one
            // arriving after a newer one is still validated and then rejected as not newer, with a dead letter.
            return PolicyVerdict.superseded(update, newer);
        }
        if (!Locations.isAbsolute(update.uri())) {
            // It would resolve against whichever working directory the loading TaskManager has.
            return PolicyVerdict.rejected(update, "checkpoint uri '" + update.uri() + "' is a relative path; "
                    + "announce an absolute path or a URI");
        }
        try {
            Path directory = staging.checkpoint(update.version(), update.uri(), update.sha256());
            CheckpointValidator.validate(directory, null);
            return PolicyVerdict.accepted(update);
        } catch (Exception e) {
            return PolicyVerdict.rejected(update, "checkpoint rejected: " + LeasedScoring.rootMessage(e));
        }
    }

    @Override
    public void timeout(PolicyUpdate update, ResultFuture<PolicyVerdict> result) {
        // The operator's own timeout is a backstop above the per-validation one (it also counts the time an update
        // waits behind others). It must complete the future, or the operator waits forever.
        result.complete(List.of(PolicyVerdict.rejected(update, "checkpoint validation timed out after "
                + config.policy().validationTimeout())));
    }
}
