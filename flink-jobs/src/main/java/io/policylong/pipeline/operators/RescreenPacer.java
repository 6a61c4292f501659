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
 * not flooded. Parked tickets and their timers are checkpointed, and so is the backlog figure (a metric).
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

    private final double perSecond;
    private transient ValueState<Document> text;
    private transient ValueState<PolicyRef> parked;
    private transient long nextSlot;
    private transient AtomicLong backlog;
    private transient ListState<Long> backlogState;

    public RescreenPacer(double perSecond) {
        if (!(perSecond > 0)) {
            throw new IllegalArgumentException("the re-screen rate must be positive");
        }
        this.perSecond = perSecond;
    }

    @Override
    public void open(OpenContext context) {
        text = getRuntimeContext().getState(TEXT);
        parked = getRuntimeContext().getState(PARKED);
        getRuntimeContext().getMetricGroup().gauge("rescreenBacklog", () -> backlog.get());
    }

    @Override
    public void processElement(Scheduling s, Context ctx, Collector<ScreeningTask> out) throws Exception {
        if (s.document() != null) {
            text.update(s.document());
            // New text is screened now: a re-screen of the old text still parked would screen it twice.
            if (parked.value() != null) {
                parked.clear();
                backlog.decrementAndGet();
            }
            if (s.policy() != null) {
                out.collect(new ScreeningTask(s.document(), s.policy(), false));
            }
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
            out.collect(new ScreeningTask(document, s.policy(), false));
            return;
        }
        PolicyRef waiting = parked.value();
        if (waiting != null) {
            if (waiting.version() < s.policy().version()) {
                parked.update(s.policy());
            }
            return;
        }
        parked.update(s.policy());
        long now = ctx.timerService().currentProcessingTime();
        long interval = Math.max(1, Math.round(1000 / perSecond));
        nextSlot = Math.max(now, nextSlot) + interval;
        ctx.timerService().registerProcessingTimeTimer(nextSlot);
        backlog.incrementAndGet();
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ScreeningTask> out) throws Exception {
        PolicyRef version = parked.value();
        Document document = text.value();
        if (version != null && document != null) {
            parked.clear();
            out.collect(new ScreeningTask(document, version, true));
            backlog.decrementAndGet();
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
    }
}
