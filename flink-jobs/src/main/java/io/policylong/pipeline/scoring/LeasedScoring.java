package io.policylong.pipeline.scoring;

import io.policylong.model.scoring.CheckpointRegistry;
import io.policylong.pipeline.tasks.PolicyRef;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import org.apache.flink.streaming.api.functions.async.ResultFuture;

/**
 * What every scoring stage does around its own work: lease the policy's checkpoint, run the work on it, and
 * complete the async result exactly once, with the work's outcome or a failure naming the reason. The result is
 * completed before the lease is released: releasing the last lease of an evicted version frees it, which must
 * never stand between a finished screening and its result.
 */
public final class LeasedScoring {
    private LeasedScoring() {
    }

    /** The work of a stage on a leased checkpoint. */
    @FunctionalInterface
    public interface Work<T> {
        CompletableFuture<T> start(CheckpointRegistry<PolicyRef>.Lease lease) throws Exception;
    }

    /**
     * Runs {@code work} under a lease on {@code policy}'s checkpoint and completes {@code result}.
     *
     * @param loadFailed the result when the checkpoint cannot be loaded, given the reason
     * @param workFailed the result when the work fails, given the reason
     */
    public static <T> void run(ScoringService service, PolicyRef policy, Work<T> work,
            Function<String, T> loadFailed, Function<String, T> workFailed, ResultFuture<T> result) {
        service.lease(policy).whenComplete((lease, error) -> {
            if (error != null) {
                result.complete(List.of(loadFailed.apply("policy version " + policy.version()
                        + " could not be loaded: " + rootMessage(error))));
                return;
            }
            CompletableFuture<T> running;
            try {
                running = work.start(lease);
            } catch (Exception | Error e) {
                try {
                    result.complete(List.of(workFailed.apply(rootMessage(e))));
                } finally {
                    lease.close();
                }
                return;
            }
            running.whenComplete((value, failure) -> {
                try {
                    result.complete(List.of(failure == null ? value : workFailed.apply(rootMessage(failure))));
                } finally {
                    lease.close();
                }
            });
        });
    }

    /** The message of the innermost cause that says something (futures wrap causes in their own exceptions). */
    public static String rootMessage(Throwable t) {
        Throwable cause = t;
        while (cause.getCause() != null && cause.getCause() != cause
                && (cause instanceof CompletionException || cause instanceof ExecutionException)) {
            cause = cause.getCause();
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
