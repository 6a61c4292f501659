package io.policylong.pipeline.operators;

import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;

/**
 * A stage where screenings end (as a sample, a drop or a dead letter): it reports each one through
 * {@link #finished} and the report reaches {@link PipelineProgress} once the checkpoint carrying the outcome
 * completes (see {@link CommittedScreenings}).
 */
abstract class ScreeningOutcomeFunction<I, O> extends ProcessFunction<I, O>
        implements CheckpointedFunction, CheckpointListener {
    private static final long serialVersionUID = 1L;

    private transient CommittedScreenings committed;

    /** The screening of {@code documentId} under {@code version} ends here. */
    protected final void finished(String documentId, long version) {
        committed.finished(documentId, version);
    }

    @Override
    public void initializeState(FunctionInitializationContext context) {
        // Nothing to restore: uncommitted screenings are replayed after a restart.
        committed = new CommittedScreenings();
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) {
        committed.barrier(context.getCheckpointId());
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        committed.committed(checkpointId);
    }
}
