package io.policylong.pipeline;

import io.policylong.connectors.kafka.KafkaTopics;
import io.policylong.pipeline.config.PipelineConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Before a job with a {@code kafka} section is submitted: creates the topics it needs that do not exist yet
 * ({@code kafka.create-topics}, as {@link #specs} describes them), or says which
 * are missing. A missing input topic never fails the job: its source reads it once it exists, and the directory
 * of policy descriptors, when configured, drives screening meanwhile.
 */
public final class KafkaTopicSetup {
    private KafkaTopicSetup() {
    }

    /**
     * The topics a configuration needs, as they are created: every topic takes records up to
     * {@code kafka.max-record-bytes}; the policies topic has one partition, so updates stay in order, and keeps its
     * records forever, so a job started without state finds the current policy.
     */
    public static List<KafkaTopics.Spec> specs(PipelineConfig.Kafka kafka) {
        Map<String, String> sized = Map.of("max.message.bytes", String.valueOf(kafka.maxRecordBytes()));
        Map<String, String> kept = new HashMap<>(sized);
        kept.put("retention.ms", "-1");
        return List.of(
                new KafkaTopics.Spec(kafka.documentsTopic(), kafka.partitions(), sized),
                new KafkaTopics.Spec(kafka.policiesTopic(), 1, kept),
                new KafkaTopics.Spec(kafka.samplesTopic(), kafka.partitions(), sized),
                new KafkaTopics.Spec(kafka.deadLettersTopic(), kafka.partitions(), sized));
    }

    /** Prepares the topics of a configuration (nothing without a {@code kafka} section). */
    public static void prepare(PipelineConfig config, Consumer<String> log) throws Exception {
        PipelineConfig.Kafka kafka = config.kafka();
        if (kafka == null) {
            return;
        }
        List<KafkaTopics.Spec> specs = specs(kafka);
        List<KafkaTopics.Spec> missing;
        try {
            missing = KafkaTopics.missing(kafka.bootstrapServers(), kafka.properties(), specs);
        } catch (Exception e) {
            throw new IllegalStateException("Kafka at " + kafka.bootstrapServers() + " could not be asked for its "
                    + "topics: " + e.getMessage(), e);
        }
        if (missing.isEmpty()) {
            return;
        }
        if (kafka.createTopics()) {
            List<String> created = KafkaTopics.create(kafka.bootstrapServers(), kafka.properties(), missing,
                    kafka.replicationFactor());
            if (!created.isEmpty()) {
                log.accept("created Kafka topics " + String.join(", ", created) + " on " + kafka.bootstrapServers());
            }
            return;
        }
        for (KafkaTopics.Spec spec : missing) {
            log.accept("Kafka topic " + spec.name() + " does not exist yet (kafka.create-topics is false): "
                    + (spec.name().equals(kafka.samplesTopic()) || spec.name().equals(kafka.deadLettersTopic())
                            ? "nothing can be written to it until it is created"
                            : "the job reads it as soon as it is created"));
        }
    }
}
