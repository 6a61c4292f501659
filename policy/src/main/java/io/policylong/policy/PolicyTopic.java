package io.policylong.policy;

import io.policylong.records.InvalidRecordException;
import io.policylong.records.PolicyUpdate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** The policies topic as announcers see it: the newest version announced on it so far. */
public final class PolicyTopic {
    private PolicyTopic() {
    }

    /**
     * The highest version among the committed announcements on the topic (records that are not policy updates
     * are passed over), or empty when it has none or does not exist.
     */
    public static OptionalLong latestVersion(String bootstrapServers, String topic, Map<String, String> properties) {
        Properties props = new Properties();
        props.putAll(properties);
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                return OptionalLong.empty();
            }
            List<TopicPartition> partitions = infos.stream().map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            OptionalLong latest = OptionalLong.empty();
            long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p, Duration.ofSeconds(30)) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read topic " + topic + " to its end within a minute");
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    try {
                        long v = PolicyUpdate.fromJson(r.value()).version();
                        if (latest.isEmpty() || v > latest.getAsLong()) {
                            latest = OptionalLong.of(v);
                        }
                    } catch (InvalidRecordException | RuntimeException e) {
                        // Not an announcement: the job dead-letters it; it has no version here.
                    }
                }
            }
            return latest;
        }
    }
}
