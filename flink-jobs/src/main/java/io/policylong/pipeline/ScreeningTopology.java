package io.policylong.pipeline;

import io.policylong.connectors.files.FileConnectors;
import io.policylong.connectors.files.SmallFile;
import io.policylong.connectors.files.SourceLine;
import io.policylong.connectors.kafka.KafkaConnectors;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.operators.DeadLetterAccounting;
import io.policylong.pipeline.operators.DeadLetters;
import io.policylong.pipeline.operators.SampleRecordLimit;
import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.records.DeadLetter;
import io.policylong.records.TrainingSample;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The sources and sinks a configuration chooses, around {@link ScreeningJob#wire}: JSONL files or a documents
 * topic in; policy descriptors from a watched directory and/or a policies topic; samples and dead letters to
 * exactly-once JSONL part files or to topics in Kafka transactions. Every location must already be a URI
 * (see {@link PipelineConfig#withAbsoluteLocations}).
 */
public final class ScreeningTopology {
    private ScreeningTopology() {
    }

    /**
     * Adds the job to an environment.
     *
     * @param inputTap a transformation between the document source and the job (identity in production; tests
     *     inject faults here)
     * @return where samples and dead letters go, in words
     */
    public static String build(StreamExecutionEnvironment env, PipelineConfig config,
            UnaryOperator<DataStream<SourceLine>> inputTap) {
        PipelineConfig.Kafka kafka = config.kafka();
        DataStream<SourceLine> lines;
        DataStream<SourceLine> policyRecords = null;
        if (kafka != null) {
            lines = env.fromSource(KafkaConnectors.jsonRecords(kafka.bootstrapServers(), kafka.documentsTopic(),
                    kafka.groupId(), kafka.maxRecordBytes(), kafka.properties(), KafkaConnectors.Start.GROUP_OFFSETS),
                    WatermarkStrategy.noWatermarks(), "documents").uid("documents-topic-source");
            policyRecords = env.fromSource(KafkaConnectors.jsonRecords(kafka.bootstrapServers(),
                    kafka.policiesTopic(), kafka.groupId() + "-policies", PolicyDescriptorFiles.MAX_BYTES,
                    kafka.properties(), KafkaConnectors.Start.EARLIEST), WatermarkStrategy.noWatermarks(),
                    "policy records")
                    // A job without state replays every announcement (cheap: superseded ones are never validated),
                    // so it always finds the current policy, whatever its consumer group committed.
                    .uid("policy-topic-source").setParallelism(1);
        } else {
            lines = env.fromSource(FileConnectors.jsonLines(new Path(config.input().documents()),
                    config.input().watch(), config.input().maxLineBytes()), WatermarkStrategy.noWatermarks(),
                    "documents").uid("documents-source");
        }
        DataStream<SmallFile> descriptors = config.policy().checkpoints() == null ? null
                : env.fromSource(FileConnectors.policyDescriptors(new Path(config.policy().checkpoints()),
                        config.policy().watch(), PolicyDescriptorFiles.MAX_BYTES), WatermarkStrategy.noWatermarks(),
                        "policy descriptors").uid("policy-source").setParallelism(1);
        // The job's own committed dead letters, read back so that screenings that failed for good are tried again.
        DataStream<SourceLine> failed = null;
        if (config.scoring().rescreenFailed() > 0) {
            failed = kafka != null
                    ? env.fromSource(KafkaConnectors.jsonRecords(kafka.bootstrapServers(), kafka.deadLettersTopic(),
                            kafka.groupId() + "-failed-screenings", kafka.maxRecordBytes(), kafka.properties(),
                            KafkaConnectors.Start.GROUP_OFFSETS), WatermarkStrategy.noWatermarks(),
                            "failed screenings").uid("failed-screenings-topic-source")
                    : env.fromSource(FileConnectors.jsonLines(new Path(config.output().deadLetters()),
                            Duration.ofSeconds(2), config.input().maxLineBytes()), WatermarkStrategy.noWatermarks(),
                            "failed screenings").uid("failed-screenings-source");
        }
        ScreeningJob.Outputs outputs = ScreeningJob.wire(config, inputTap.apply(lines), descriptors, policyRecords,
                failed);
        DataStream<TrainingSample> samples = outputs.samples();
        DataStream<DeadLetter> deadLetters = outputs.deadLetters();
        if (kafka != null) {
            SingleOutputStreamOperator<TrainingSample> fitting = samples
                    .process(new SampleRecordLimit(kafka.maxRecordBytes())).name("samples within the record limit")
                    .uid("sample-record-limit");
            samples = fitting;
            deadLetters = deadLetters.union(fitting.getSideOutput(DeadLetters.TAG));
        }
        DataStream<String> deadLetterJson = deadLetters.map(new DeadLetterAccounting())
                .name("dead letters to JSON").uid("dead-letters-json");
        if (kafka != null) {
            Map<String, String> producer = new HashMap<>(kafka.properties());
            producer.put("transaction.timeout.ms", String.valueOf(kafka.transactionTimeout().toMillis()));
            // The producer refuses what the topics would refuse (unless kafka.properties says otherwise).
            producer.putIfAbsent("max.request.size", String.valueOf(kafka.maxRecordBytes()));
            samples.sinkTo(KafkaConnectors.jsonSink(kafka.bootstrapServers(), kafka.samplesTopic(),
                    TrainingSample::documentId, TrainingSample::toJson, DeliveryGuarantee.EXACTLY_ONCE,
                    kafka.transactionalIdPrefix() + "-samples", producer)).name("samples").uid("samples-topic-sink");
            deadLetterJson.sinkTo(KafkaConnectors.jsonSink(kafka.bootstrapServers(), kafka.deadLettersTopic(), null,
                    json -> json, DeliveryGuarantee.EXACTLY_ONCE, kafka.transactionalIdPrefix() + "-dead-letters",
                    producer)).name("dead letters").uid("dead-letters-topic-sink");
            return String.format("samples -> topic %s, dead letters -> topic %s (Kafka %s; read them with "
                    + "isolation.level=read_committed)", kafka.samplesTopic(), kafka.deadLettersTopic(),
                    kafka.bootstrapServers());
        }
        samples.map(TrainingSample::toJson).name("samples to JSON").uid("samples-json")
                .sinkTo(FileConnectors.jsonLinesSink(new Path(config.output().samples()), "samples"))
                .name("samples").uid("samples-sink");
        deadLetterJson.sinkTo(FileConnectors.jsonLinesSink(new Path(config.output().deadLetters()), "dead-letters"))
                .name("dead letters").uid("dead-letters-sink");
        return String.format("samples -> %s, dead letters -> %s", config.output().samples(),
                config.output().deadLetters());
    }
}
