package io.policylong.pipeline;

import io.policylong.pipeline.config.PipelineConfig;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.fs.Path;

/**
 * The Flink settings the job carries as job configuration, from the {@code runtime} section: RocksDB state with
 * incremental checkpoints, exactly-once checkpoints retained on cancellation and failure (so a stopped or
 * crashed job can be resumed), and the checkpoint directory, interval and parallelism when the file gives
 * them. What the file leaves out is left to the cluster's configuration.
 */
public final class JobSettings {
    private JobSettings() {
    }

    /** The job configuration for a (resolved) pipeline configuration. */
    public static Configuration of(PipelineConfig config) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        PipelineConfig.Runtime runtime = config.runtime();
        if (runtime.checkpointDirectory() != null) {
            Path checkpoints = new Path(runtime.checkpointDirectory());
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toString());
            conf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, new Path(checkpoints, "savepoints").toString());
        }
        if (runtime.checkpointInterval() != null) {
            conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, runtime.checkpointInterval());
        }
        if (runtime.parallelism() != null) {
            conf.set(CoreOptions.DEFAULT_PARALLELISM, runtime.parallelism());
        }
        return conf;
    }
}
