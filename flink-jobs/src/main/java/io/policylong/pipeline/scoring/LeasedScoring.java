package io.policylong.pipeline.scoring;

import io.policylong.pipeline.tasks.PolicyRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.flink.streaming.api.functions.async.ResultFuture;

/**
 * What every scoring stage does around its own work: lease the policy's checkpoint, run the work on it within a
 * per-attempt deadline, and complete the async result exactly once, with the work's outcome or a failure naming
 * the reason. The result is completed before the lease is released: releasing the last lease of an evicted
 * version frees it, which must never stand between a finished screening and its result. An attempt that
 * misses its deadline, or whose element the operator times out, cancels every scoring request it submitted, so
 * the micro-batcher drops them unscored and the lease is released: nothing keeps the scorer busy for work
 * nobody waits for. One instance per operator instance.
 */
public final class LeasedScoring {
    /** The requests an attempt has submitted, by the element it works on (identity: the operator's own object). */
    private final Map<Object, List<CompletableFuture<?>>> inFlight = new ConcurrentHashMap<>();
    private final Function<PolicyRef, CompletableFuture<PolicyScorer>> leases;
    private final Duration attemptDeadline;

    /**
     * @param attemptDeadline longest one attempt may take; the operator retries a failed attempt within its own
     *     overall timeout
     */
    public LeasedScoring(ScoringBackend service, Duration attemptDeadline) {
        this(service::lease, attemptDeadline);
    }

    /** With any source of leases (tests). */
    LeasedScoring(Function<PolicyRef, CompletableFuture<PolicyScorer>> leases, Duration attemptDeadline) {
        this.leases = leases;
        this.attemptDeadline = attemptDeadline;
    }

    /**
     * The work of a stage on a leased checkpoint, with its results (usually one); every request it submits goes
     * into {@code submitted}.
     */
    @FunctionalInterface
    public interface Work<T> {
        CompletableFuture<List<T>> start(PolicyScorer scorer, List<CompletableFuture<?>> submitted) throws Exception;
    }

    /**
     * Runs {@code work} for {@code element} under a lease on {@code policy}'s checkpoint and completes
     * {@code result}.
     *
     * @param loadFailed the result when the checkpoint cannot be loaded, given the reason
     * @param workFailed the result when the attempt fails or misses its deadline, given the reason
     */
    public <T> void run(Object element, PolicyRef policy, Work<T> work, Function<String, T> loadFailed,
            Function<String, T> workFailed, ResultFuture<T> result) {
        leases.apply(policy).whenComplete((lease, error) -> {
            if (error != null) {
                result.complete(List.of(loadFailed.apply("policy version " + policy.version()
                        + " could not be loaded: " + rootMessage(error))));
                return;
            }
            List<CompletableFuture<?>> submitted = java.util.Collections.synchronizedList(new ArrayList<>());
            inFlight.put(element, submitted);
            CompletableFuture<List<T>> running;
            try {
                running = work.start(lease, submitted);
            } catch (Exception | Error e) {
                finish(element, submitted);
                try {
                    result.complete(List.of(workFailed.apply(rootMessage(e))));
                } finally {
                    lease.close();
                }
                return;
            }
            running.orTimeout(attemptDeadline.toMillis(), TimeUnit.MILLISECONDS).whenComplete((value, failure) -> {
                finish(element, submitted);
                try {
                    result.complete(failure == null ? value : List.of(workFailed.apply(reason(failure))));
                } finally {
                    lease.close();
                }
            });
        });
    }

    private String reason(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        return cause instanceof TimeoutException ? "an attempt took longer than " + attemptDeadline : rootMessage(cause);
    }

    /** The attempt ended: what it submitted and has not been scored yet is dropped. */
    private void finish(Object element, List<CompletableFuture<?>> submitted) {
        inFlight.remove(element, submitted);
        synchronized (submitted) {
            submitted.forEach(f -> f.cancel(false));
        }
    }

    /** The operator gave up on an element (its overall timeout): cancel what its attempt still has queued. */
    public void abandon(Object element) {
        List<CompletableFuture<?>> submitted = inFlight.remove(element);
        if (submitted != null) {
            synchronized (submitted) {
                submitted.forEach(f -> f.cancel(false));
            }
        }
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
