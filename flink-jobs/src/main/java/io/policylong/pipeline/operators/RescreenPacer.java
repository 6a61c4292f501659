package io.policylong.pipeline.operators;

import io.policylong.pipeline.tasks.ScreeningTask;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Spreads re-screening over time so that new documents are not starved and the scorer is not flooded after a
 * version advance. New-document tasks pass straight through; a re-screen task is parked in keyed state (a
 * newer version replaces an older one that has not left yet) and released by a processing-time timer, at most
 * {@code perSecond} per parallel instance. Parked tasks and their timers are checkpointed, so a restart keeps
 * the backlog; the backlog size is a metric.
 */
public final class RescreenPacer extends KeyedProcessFunction<String, ScreeningTask, ScreeningTask> {
    private static final long serialVersionUID = 1L;

    /** The keyed state: the parked re-screen task. */
    public static final ValueStateDescriptor<ScreeningTask> PARKED = new ValueStateDescriptor<>("parked",
            TypeInformation.of(ScreeningTask.class));

    private final double perSecond;
    private transient ValueState<ScreeningTask> parked;
    private transient long nextSlot;
    private transient AtomicLong backlog;

    public RescreenPacer(double perSecond) {
        if (!(perSecond > 0)) {
            throw new IllegalArgumentException("the re-screen rate must be positive");
        }
        this.perSecond = perSecond;
    }

    @Override
    public void open(OpenContext context) {
        parked = getRuntimeContext().getState(PARKED);
        backlog = new AtomicLong();
        getRuntimeContext().getMetricGroup().gauge("rescreenBacklog", () -> backlog.get());
    }

    @Override
    public void processElement(ScreeningTask task, Context ctx, Collector<ScreeningTask> out) throws Exception {
        if (!task.rescreen()) {
            // A document that arrived with new text is screened now; a re-screen of its old text still parked
            // would screen it twice.
            ScreeningTask waiting = parked.value();
            if (waiting != null && waiting.policy().version() <= task.policy().version()) {
                parked.clear();
                backlog.decrementAndGet();
            }
            out.collect(task);
            return;
        }
        ScreeningTask waiting = parked.value();
        if (waiting != null) {
            if (waiting.policy().version() < task.policy().version()) {
                parked.update(task);
            }
            return;
        }
        parked.update(task);
        long now = ctx.timerService().currentProcessingTime();
        long interval = Math.max(1, Math.round(1000 / perSecond));
        nextSlot = Math.max(now, nextSlot) + interval;
        ctx.timerService().registerProcessingTimeTimer(nextSlot);
        backlog.incrementAndGet();
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ScreeningTask> out) throws Exception {
        ScreeningTask task = parked.value();
        if (task != null) {
            parked.clear();
            out.collect(task);
            if (backlog.get() > 0) {
                backlog.decrementAndGet();
            }
        }
    }
}
