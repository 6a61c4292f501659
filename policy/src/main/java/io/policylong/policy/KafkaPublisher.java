package io.policylong.policy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends JSON records to a topic from the command line tools (documents, policy updates): idempotent,
 * acknowledged by all replicas, every send confirmed before {@link #close()} returns.
 */
public final class KafkaPublisher implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;

    public KafkaPublisher(String bootstrapServers, String topic, Map<String, String> properties) {
        Properties props = new Properties();
        props.putAll(properties);
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
    }

    /** Sends one record; the future completes when the broker has it. */
    public Future<RecordMetadata> send(String key, String json) {
        return producer.send(new ProducerRecord<>(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                json.getBytes(StandardCharsets.UTF_8)));
    }

    /** Sends one record and waits for the broker's acknowledgement. */
    public RecordMetadata sendAndWait(String key, String json) throws InterruptedException {
        try {
            return send(key, json).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not send to topic " + topic + ": " + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    @Override
    public void close() {
        producer.flush();
        producer.close();
    }
}
