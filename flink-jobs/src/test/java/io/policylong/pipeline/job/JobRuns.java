package io.policylong.pipeline.job;

import io.policylong.connectors.files.SourceLine;
import io.policylong.pipeline.JobSettings;
import io.policylong.pipeline.ScreeningJobMain;
import io.policylong.pipeline.ScreeningTopology;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.operators.PipelineProgress;
import java.util.function.UnaryOperator;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Starts the configured job on a test's environment, as the entry point does on a cluster. */
public final class JobRuns {
    private JobRuns() {
    }

    /** Starts the job with its job settings, progress tracking reset, and an optional tap on the input. */
    public static JobClient start(StreamExecutionEnvironment env, PipelineConfig config,
            UnaryOperator<DataStream<SourceLine>> tap) throws Exception {
        PipelineProgress.reset();
        env.configure(JobSettings.of(config));
        ScreeningTopology.build(env, config, tap == null ? lines -> lines : tap);
        return env.executeAsync(ScreeningJobMain.JOB_NAME);
    }
}
