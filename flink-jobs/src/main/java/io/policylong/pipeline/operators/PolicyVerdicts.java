package io.policylong.pipeline.operators;

import io.policylong.pipeline.tasks.PolicyVerdict;
import io.policylong.records.DeadLetter;
import io.policylong.records.PolicyUpdate;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes accepted policy updates on to the broadcast and sends rejected ones to the dead letters, once each;
 * superseded ones are counted ({@code policiesSuperseded}) and logged.
 * Versions only move forward: an accepted update that is not newer than the newest one passed on (an older
 * announcement arriving late, or the same version twice) is rejected here too. The newest version passed on is
 * checkpointed. Runs at parallelism 1.
 */
public final class PolicyVerdicts extends ProcessFunction<PolicyVerdict, PolicyUpdate> implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(PolicyVerdicts.class);

    private transient ListState<Long> newestState;
    private transient long newest;
    private transient Counter superseded;
    private transient Counter rejected;

    @Override
    public void open(OpenContext context) {
        superseded = getRuntimeContext().getMetricGroup().counter("policiesSuperseded");
        rejected = getRuntimeContext().getMetricGroup().counter("policiesRejected");
    }

    @Override
    public void processElement(PolicyVerdict verdict, Context ctx, Collector<PolicyUpdate> out) {
        PolicyUpdate update = verdict.update();
        if (verdict.outcome() == PolicyVerdict.Outcome.SUPERSEDED) {
            superseded.inc();
            LOG.info("policy version {} skipped: {}", update.version(), verdict.reason());
            return;
        }
        String reason = verdict.outcome() == PolicyVerdict.Outcome.REJECTED ? verdict.reason() : null;
        if (reason == null && update.version() <= newest) {
            reason = "version " + update.version() + " is not newer than the current version " + newest
                    + " (versions only move forward)";
        }
        if (reason != null) {
            rejected.inc();
            ctx.output(DeadLetters.TAG, DeadLetter.of("policy", "version " + update.version(), reason, update.uri()));
            return;
        }
        newest = update.version();
        out.collect(update);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        newestState.update(List.of(newest));
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        newestState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("newest-policy-version", Types.LONG));
        newest = -1;
        for (Long v : newestState.get()) {
            newest = Math.max(newest, v);
        }
    }
}
