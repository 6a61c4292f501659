package io.policylong.pipeline;

import io.policylong.connectors.kafka.KafkaTopics;
import io.policylong.pipeline.config.PipelineConfig;
import java.util.List;
import java.util.function.Consumer;

/**
 * Before a job with a {@code kafka} section is submitted: creates the topics it needs that do not exist yet
 * ({@code kafka.create-topics}; the policies topic with one partition, so updates stay in order), or says which
 * are missing. A missing input topic never fails the job: its source reads it once it exists, and the directory
 * of policy descriptors, when configured, drives screening meanwhile.
 */
public final class KafkaTopicSetup {
    private KafkaTopicSetup() {
    }

    /** Prepares the topics of a configuration (nothing without a {@code kafka} section). */
    public static void prepare(PipelineConfig config, Consumer<String> log) throws Exception {
        PipelineConfig.Kafka kafka = config.kafka();
        if (kafka == null) {
            return;
        }
        List<KafkaTopics.Spec> specs = List.of(
                new KafkaTopics.Spec(kafka.documentsTopic(), kafka.partitions()),
                new KafkaTopics.Spec(kafka.policiesTopic(), 1),
                new KafkaTopics.Spec(kafka.samplesTopic(), kafka.partitions()),
                new KafkaTopics.Spec(kafka.deadLettersTopic(), kafka.partitions()));
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
