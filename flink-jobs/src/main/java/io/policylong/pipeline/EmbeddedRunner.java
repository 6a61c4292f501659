package io.policylong.pipeline;

import io.policylong.connectors.files.FileConnectors;
import io.policylong.connectors.kafka.KafkaConnectors;
import io.policylong.connectors.records.TrainingSample;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.connector.base.DeliveryGuarantee;
import io.policylong.connectors.files.SmallFile;
import io.policylong.connectors.files.SourceLine;
import io.policylong.connectors.checkpoints.PolicyDescriptorFiles;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.metrics.SummaryReporterFactory;
import io.policylong.pipeline.operators.DeadLetterAccounting;
import io.policylong.pipeline.operators.PipelineProgress;
import java.io.PrintWriter;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Runs the screening job in a local Flink mini cluster (RocksDB state, exactly-once checkpoints, web UI).
 * Files: JSONL documents, policy descriptors from a watched checkpoints directory, samples and dead letters to
 * JSONL part files committed on checkpoints. Kafka (a {@code kafka} section in the configuration): documents
 * and policy updates from topics (plus the checkpoints directory when one is configured), samples and dead
 * letters to topics in transactions committed on checkpoints. Optionally stops itself once it is idle.
 */
public final class EmbeddedRunner {
    private final PipelineConfig config;
    private final PrintWriter console;
    private java.util.function.UnaryOperator<DataStream<SourceLine>> inputTap = lines -> lines;
    private String savepoint;

    public EmbeddedRunner(PipelineConfig config, PrintWriter console) {
        this.config = config;
        this.console = console;
    }

    /** Starts the job from a savepoint or retained checkpoint instead of empty state (null: empty). */
    public EmbeddedRunner restoringFrom(String savepoint) {
        this.savepoint = savepoint;
        return this;
    }

    /** Inserts a transformation between the document source and the job (tests inject faults here). */
    public EmbeddedRunner withInputTap(java.util.function.UnaryOperator<DataStream<SourceLine>> tap) {
        this.inputTap = tap;
        return this;
    }

    /** The Flink configuration of the local cluster. */
    public Configuration flinkConfiguration() {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        Path checkpoints = new Path(java.nio.file.Path.of(config.runtime().checkpointDirectory()).toAbsolutePath()
                .toUri());
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toString());
        conf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, new Path(checkpoints, "savepoints").toString());
        conf.set(RestOptions.BIND_PORT, config.runtime().webUiPort() + "-" + (config.runtime().webUiPort() + 20));
        conf.setString("metrics.reporter.summary.factory.class", SummaryReporterFactory.class.getName());
        conf.setString("metrics.reporter.summary.interval", config.runtime().summaryInterval().toMillis() + " ms");
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        return conf;
    }

    /**
     * Starts the job. With {@code untilIdle}, waits until every document has been screened under the newest
     * version and nothing changed for that long, then stops the job with a final savepoint (which commits the
     * last samples); without it, returns the running job.
     */
    public JobClient run(Duration untilIdle) throws Exception {
        return run(StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(flinkConfiguration()), untilIdle);
    }

    /** Runs the job on a given environment (a test cluster, for example); see {@link #run(Duration)}. */
    public JobClient run(StreamExecutionEnvironment env, Duration untilIdle) throws Exception {
        PipelineProgress.reset();
        env.setParallelism(config.runtime().parallelism());
        env.enableCheckpointing(config.runtime().checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        PipelineConfig.Kafka kafka = config.kafka();
        DataStream<SourceLine> lines;
        DataStream<SourceLine> policyRecords = null;
        if (kafka != null) {
            lines = env.fromSource(KafkaConnectors.jsonRecords(kafka.bootstrapServers(), kafka.documentsTopic(),
                    kafka.groupId(), kafka.maxRecordBytes(), kafka.properties()), WatermarkStrategy.noWatermarks(),
                    "documents").uid("documents-topic-source");
            policyRecords = env.fromSource(KafkaConnectors.jsonRecords(kafka.bootstrapServers(),
                    kafka.policiesTopic(), kafka.groupId() + "-policies", PolicyDescriptorFiles.MAX_BYTES,
                    kafka.properties()), WatermarkStrategy.noWatermarks(), "policy records")
                    .uid("policy-topic-source").setParallelism(1);
        } else {
            lines = env.fromSource(FileConnectors.jsonLines(path(config.input().documents()), config.input().watch(),
                    config.input().maxLineBytes()), WatermarkStrategy.noWatermarks(), "documents")
                    .uid("documents-source");
        }
        DataStream<SmallFile> descriptors = config.policy().checkpoints() == null ? null
                : env.fromSource(FileConnectors.policyDescriptors(path(config.policy().checkpoints()),
                        config.policy().watch(), PolicyDescriptorFiles.MAX_BYTES), WatermarkStrategy.noWatermarks(),
                        "policy descriptors").uid("policy-source").setParallelism(1);
        ScreeningJob.Outputs outputs = ScreeningJob.wire(config, inputTap.apply(lines), descriptors, policyRecords);
        DataStream<String> deadLetterJson = outputs.deadLetters().map(new DeadLetterAccounting())
                .name("dead letters to JSON").uid("dead-letters-json");
        String destinations;
        if (kafka != null) {
            Map<String, String> producer = new HashMap<>(kafka.properties());
            producer.put("transaction.timeout.ms", String.valueOf(kafka.transactionTimeout().toMillis()));
            outputs.samples().sinkTo(KafkaConnectors.jsonSink(kafka.bootstrapServers(), kafka.samplesTopic(),
                    TrainingSample::documentId, TrainingSample::toJson, DeliveryGuarantee.EXACTLY_ONCE,
                    kafka.transactionalIdPrefix() + "-samples", producer)).name("samples").uid("samples-topic-sink");
            deadLetterJson.sinkTo(KafkaConnectors.jsonSink(kafka.bootstrapServers(), kafka.deadLettersTopic(), null,
                    json -> json, DeliveryGuarantee.EXACTLY_ONCE, kafka.transactionalIdPrefix() + "-dead-letters",
                    producer)).name("dead letters").uid("dead-letters-topic-sink");
            destinations = String.format("samples -> topic %s, dead letters -> topic %s (Kafka %s; read them with "
                    + "isolation.level=read_committed)", kafka.samplesTopic(), kafka.deadLettersTopic(),
                    kafka.bootstrapServers());
        } else {
            outputs.samples().map(sample -> sample.toJson()).name("samples to JSON").uid("samples-json")
                    .sinkTo(FileConnectors.jsonLinesSink(path(config.output().samples()), "samples"))
                    .name("samples").uid("samples-sink");
            deadLetterJson.sinkTo(FileConnectors.jsonLinesSink(path(config.output().deadLetters()), "dead-letters"))
                    .name("dead letters").uid("dead-letters-sink");
            destinations = String.format("samples -> %s, dead letters -> %s",
                    java.nio.file.Path.of(config.output().samples()).toAbsolutePath(),
                    java.nio.file.Path.of(config.output().deadLetters()).toAbsolutePath());
        }
        JobClient client = env.executeAsync("policylong screening");
        console.printf("run: job %s started; %s, Flink checkpoints -> %s; web UI on http://localhost:%d (or the "
                + "next free port)%n", client.getJobID(), destinations,
                java.nio.file.Path.of(config.runtime().checkpointDirectory()).toAbsolutePath(),
                config.runtime().webUiPort());
        console.flush();
        if (untilIdle == null) {
            return client;
        }
        waitUntilIdle(client, untilIdle);
        String savepoint = client.stopWithSavepoint(false, null, SavepointFormatType.CANONICAL).get();
        PipelineProgress.Snapshot s = PipelineProgress.snapshot();
        console.printf("run: idle for %s: %d documents, all screened under the newest version %d (%d screenings "
                + "committed); stopped with savepoint %s%n", untilIdle, s.documents(), s.latestVersion(), s.committed(),
                savepoint);
        PipelineProgress.Throughput t = PipelineProgress.throughput();
        console.printf(java.util.Locale.ROOT, "run: %d screenings committed in %.1f s (%.2f per second): %d document "
                + "tokens scored (%.0f per second), %d tokens through the model in all (%.0f per second), %d "
                + "positives%s%n", t.screenings(), t.seconds(), t.screenings() / Math.max(t.seconds(), 1e-9),
                t.documentTokens(), t.documentTokens() / Math.max(t.seconds(), 1e-9), t.forwardTokens(),
                t.forwardTokens() / Math.max(t.seconds(), 1e-9), t.positives(), t.positives() == 0 ? ""
                        : String.format(java.util.Locale.ROOT, " (%d model tokens per positive)",
                                t.forwardTokens() / t.positives()));
        PipelineProgress.versionLatencies().forEach((version, latency) -> console.printf("run: version %d: first "
                + "screening committed %.1f s after its announcement%n", version, latency.toMillis() / 1000.0));
        console.flush();
        return client;
    }

    /**
     * Waits until every stored document is committed under the newest version and nothing changed for
     * {@code idle}; fails if the job ends first.
     */
    public static void waitUntilIdle(JobClient client, Duration idle) throws Exception {
        while (true) {
            Thread.sleep(500);
            if (client.getJobStatus().get().isGloballyTerminalState()) {
                throw new IllegalStateException("the job ended before it became idle: " + client.getJobStatus().get());
            }
            PipelineProgress.Snapshot s = PipelineProgress.snapshot();
            if (s.quiescent() && s.secondsSinceChange() >= idle.toMillis() / 1000.0) {
                return;
            }
        }
    }

    private static Path path(String location) {
        return new Path(java.nio.file.Path.of(location).toAbsolutePath().toUri());
    }

}
