package io.policylong.pipeline.operators;

import io.policylong.pipeline.tasks.PolicyRef;
import io.policylong.pipeline.tasks.Scheduling;
import io.policylong.pipeline.tasks.ScreeningTask;
import io.policylong.records.Document;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the text of every stored document (keyed state, RocksDB; the only copy) and releases screenings: a
 * document that arrives is screened at once, never held back; a re-screen ticket after a version advance is
 * parked (a newer version replaces an older one that has not left yet) and released by a processing-time
 * timer, at most {@code perSecond} per parallel instance, so new documents are not starved and the scorer is
 * not flooded. A screening that failed for good (read back from the dead letters) is parked again the same
 * way, at most {@code maxRetries} times per version. Parked tickets and their timers are checkpointed, and so
 * is the backlog figure (a metric).
 */
public final class RescreenPacer extends KeyedProcessFunction<String, Scheduling, ScreeningTask>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RescreenPacer.class);

    /** The keyed state: the document's text. */
    public static final ValueStateDescriptor<Document> TEXT = new ValueStateDescriptor<>("text",
            TypeInformation.of(Document.class));

    /** The keyed state: the version a parked re-screen waits to be screened under. */
    public static final ValueStateDescriptor<PolicyRef> PARKED = new ValueStateDescriptor<>("parked-version",
            TypeInformation.of(PolicyRef.class));

    /** The keyed state: the version the document was last sent to screening under. */
    public static final ValueStateDescriptor<PolicyRef> RELEASED = new ValueStateDescriptor<>("released-version",
            TypeInformation.of(PolicyRef.class));

    /** The keyed state: how often the screening under the released version was tried again after failing. */
    public static final ValueStateDescriptor<Integer> RETRIES = new ValueStateDescriptor<>("retries", Types.INT);

    private final double perSecond;
    private final int maxRetries;
    private transient ValueState<Document> text;
    private transient ValueState<PolicyRef> parked;
    private transient ValueState<PolicyRef> released;
    private transient ValueState<Integer> retries;
    private transient Counter retried;
    private transient Counter retriesExhausted;
    private transient long nextSlot;
    private transient AtomicLong backlog;
    private transient ListState<Long> backlogState;

    public RescreenPacer(double perSecond) {
        this(perSecond, 0);
    }

    /** @param maxRetries how often a screening that failed for good is tried again under the same version */
    public RescreenPacer(double perSecond, int maxRetries) {
        if (!(perSecond > 0)) {
            throw new IllegalArgumentException("the re-screen rate must be positive");
        }
        this.perSecond = perSecond;
        this.maxRetries = maxRetries;
    }

    @Override
    public void open(OpenContext context) {
        text = getRuntimeContext().getState(TEXT);
        parked = getRuntimeContext().getState(PARKED);
        released = getRuntimeContext().getState(RELEASED);
        retries = getRuntimeContext().getState(RETRIES);
        retried = getRuntimeContext().getMetricGroup().counter("screeningsRetried");
        retriesExhausted = getRuntimeContext().getMetricGroup().counter("screeningRetriesExhausted");
        getRuntimeContext().getMetricGroup().gauge("rescreenBacklog", () -> backlog.get());
    }

    @Override
    public void processElement(Scheduling s, Context ctx, Collector<ScreeningTask> out) throws Exception {
        if (s.document() != null) {
            text.update(s.document());
            // New text is screened now: a re-screen of the old text still parked would screen it twice.
            if (parked.value() != null) {
                parked.clear();
                backlogChanged(-1);
            }
            if (s.policy() != null) {
                release(out, new ScreeningTask(s.document(), s.policy(), false));
            }
            return;
        }
        if (s.retryOf() != null) {
            retry(s, ctx);
            return;
        }
        Document document = text.value();
        if (document == null) {
            LOG.warn("no text stored for document {}: its screening under version {} is skipped", s.documentId(),
                    s.policy().version());
            return;
        }
        if (!s.rescreen()) {
            // Its first screening (the document waited for a policy): not held back.
            release(out, new ScreeningTask(document, s.policy(), false));
            return;
        }
        PolicyRef waiting = parked.value();
        if (waiting != null) {
            if (waiting.version() < s.policy().version()) {
                parked.update(s.policy());
            }
            return;
        }
        park(s.policy(), ctx);
    }

    private void park(PolicyRef version, Context ctx) throws Exception {
        parked.update(version);
        long now = ctx.timerService().currentProcessingTime();
        long interval = Math.max(1, Math.round(1000 / perSecond));
        nextSlot = Math.max(now, nextSlot) + interval;
        ctx.timerService().registerProcessingTimeTimer(nextSlot);
        backlogChanged(1);
    }

    /** A screening that failed for good: tried again while it is still the one released, a bounded number of times. */
    private void retry(Scheduling s, Context ctx) throws Exception {
        PolicyRef last = released.value();
        if (last == null || last.version() != s.retryOf() || parked.value() != null || text.value() == null) {
            return; // stale: screened under another version since, or about to be screened again anyway
        }
        int tried = retries.value() == null ? 0 : retries.value();
        if (tried >= maxRetries) {
            retriesExhausted.inc();
            return;
        }
        retries.update(tried + 1);
        retried.inc();
        park(last, ctx);
    }

    /** Sends a screening on, remembering its version (a new version starts a new count of retries). */
    private void release(Collector<ScreeningTask> out, ScreeningTask task) throws Exception {
        PolicyRef last = released.value();
        if (last == null || last.version() != task.policy().version()) {
            retries.clear();
        }
        released.update(task.policy());
        out.collect(task);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ScreeningTask> out) throws Exception {
        PolicyRef version = parked.value();
        Document document = text.value();
        if (version != null && document != null) {
            parked.clear();
            release(out, new ScreeningTask(document, version, true));
            backlogChanged(-1);
        }
    }

    private void backlogChanged(long delta) {
        backlog.addAndGet(delta);
        PipelineProgress.rescreensParked(delta);
    }

    @Override
    public void close() {
        // A failed attempt's instance gives its share back: the next attempt restores it from the checkpoint.
        if (backlog != null) {
            PipelineProgress.rescreensParked(-backlog.get());
        }
    }

    /** Re-screens parked in this instance (the {@code rescreenBacklog} gauge). */
    long backlog() {
        return backlog.get();
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        backlogState.update(List.of(backlog.get()));
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        backlogState = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("rescreen-backlog",
                Types.LONG));
        long restored = 0;
        for (Long b : backlogState.get()) {
            restored += b;
        }
        backlog = new AtomicLong(restored);
        PipelineProgress.rescreensParked(restored);
    }
}
