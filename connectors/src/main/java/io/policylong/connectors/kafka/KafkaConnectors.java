package io.policylong.connectors.kafka;

import io.policylong.connectors.files.SourceLine;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The Kafka sources and sinks of the pipeline. Values are JSON text (one record per message); keys keep a
 * document's records together (the document id). Every client gets the given extra properties, which is where
 * security settings (SASL, TLS) go.
 */
public final class KafkaConnectors {
    private KafkaConnectors() {
    }

    /** Where a source without state starts reading a topic. */
    public enum Start {
        /** The committed offsets of the consumer group (the earliest offset when the group has none). */
        GROUP_OFFSETS,
        /** Always the earliest offset: for a topic whose whole history must be seen, such as policy updates. */
        EARLIEST
    }

    /**
     * JSON records of a topic as {@link SourceLine}s, from where {@code start} says when the job has no state. A
     * topic that does not exist yet is read once it is created (partitions are discovered every 10 seconds).
     * Offsets are part of Flink's checkpoints, so a restore reads on from where the checkpoint was taken.
     */
    public static KafkaSource<SourceLine> jsonRecords(String bootstrapServers, String topic, String groupId,
            int maxValueBytes, Map<String, String> properties, Start start) {
        return KafkaSource.<SourceLine>builder()
                .setBootstrapServers(bootstrapServers)
                // Subscribed by pattern: a topic that does not exist yet is no failure; partition discovery finds it
                // once it is created.
                .setTopicPattern(java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(topic)))
                .setProperty("partition.discovery.interval.ms", "10000")
                .setGroupId(groupId)
                .setStartingOffsets(start == Start.EARLIEST ? OffsetsInitializer.earliest()
                        : OffsetsInitializer.committedOffsets(
                                org.apache.kafka.clients.consumer.OffsetResetStrategy.EARLIEST))
                .setDeserializer(new KafkaLines(maxValueBytes))
                .setProperties(asProperties(properties))
                .build();
    }

    /**
     * A sink of JSON records. With {@link DeliveryGuarantee#EXACTLY_ONCE} records are written in Kafka
     * transactions committed on Flink checkpoints: consumers must read with
     * {@code isolation.level=read_committed}, and the transaction timeout must exceed the longest
     * checkpoint interval plus restart time.
     *
     * @param key the message key of a record (null for none)
     * @param json the message value
     */
    public static <T> KafkaSink<T> jsonSink(String bootstrapServers, String topic, KeySelector<T, String> key,
            KeySelector<T, String> json, DeliveryGuarantee guarantee, String transactionalIdPrefix,
            Map<String, String> properties) {
        KafkaRecordSerializationSchema<T> serializer = (record, context, timestamp) -> {
            try {
                String k = key == null ? null : key.getKey(record);
                return new ProducerRecord<>(topic, null, timestamp,
                        k == null ? null : k.getBytes(StandardCharsets.UTF_8),
                        json.getKey(record).getBytes(StandardCharsets.UTF_8));
            } catch (Exception e) {
                throw new IllegalStateException("record for topic " + topic + " could not be serialized", e);
            }
        };
        var builder = KafkaSink.<T>builder()
                .setBootstrapServers(bootstrapServers)
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(guarantee)
                .setKafkaProducerConfig(asProperties(properties));
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            builder.setTransactionalIdPrefix(transactionalIdPrefix);
        }
        return builder.build();
    }

    private static Properties asProperties(Map<String, String> map) {
        Properties properties = new Properties();
        if (map != null) {
            properties.putAll(map);
        }
        return properties;
    }
}
