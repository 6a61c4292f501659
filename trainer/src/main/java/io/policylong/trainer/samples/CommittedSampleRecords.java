package io.policylong.trainer.samples;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The job's samples topic, read as a transactional consumer must ({@code isolation.level=read_committed}: only
 * samples of committed job checkpoints). Partitions are assigned directly, not through a consumer group: the
 * position is the trainer's own ({@link SamplesPosition}, part {@code <topic>/<partition>}, the offset after the
 * last record read), saved with its checkpoints; a partition it has no position for is read from its beginning.
 * New partitions are picked up every ten seconds.
 */
public final class CommittedSampleRecords implements SampleLog {
    private static final long PARTITION_CHECK_NANOS = Duration.ofSeconds(10).toNanos();

    private final String topic;
    private final KafkaConsumer<String, String> consumer;
    private final SamplesPosition start;
    private final Set<TopicPartition> assigned = new HashSet<>();
    private final Deque<Line> buffered = new ArrayDeque<>();
    private long lastPartitionCheck;

    /**
     * @param properties client settings ({@code security.protocol} and the like)
     */
    public CommittedSampleRecords(String bootstrapServers, String topic, Map<String, String> properties,
            SamplesPosition start) {
        Properties props = new Properties();
        props.putAll(properties);
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        this.topic = topic;
        this.start = start;
    }

    @Override
    public List<Line> next(int max) {
        assignNewPartitions();
        if (buffered.isEmpty() && !assigned.isEmpty()) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                String part = r.topic() + "/" + r.partition();
                buffered.add(new Line(part, r.offset() + 1, r.value() == null ? "" : r.value(),
                        part + "@" + r.offset()));
            }
        }
        List<Line> lines = new ArrayList<>();
        while (lines.size() < max && !buffered.isEmpty()) {
            Line line = buffered.poll();
            if (!line.text().isBlank()) {
                lines.add(line);
            }
        }
        return lines;
    }

    private void assignNewPartitions() {
        long now = System.nanoTime();
        if (!assigned.isEmpty() && now - lastPartitionCheck < PARTITION_CHECK_NANOS) {
            return;
        }
        lastPartitionCheck = now;
        List<PartitionInfo> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        List<TopicPartition> added = new ArrayList<>();
        for (PartitionInfo p : partitions == null ? List.<PartitionInfo>of() : partitions) {
            TopicPartition tp = new TopicPartition(topic, p.partition());
            if (assigned.add(tp)) {
                added.add(tp);
            }
        }
        if (added.isEmpty()) {
            return;
        }
        consumer.assign(assigned);
        for (TopicPartition tp : added) {
            long offset = start.linesRead(tp.topic() + "/" + tp.partition());
            if (offset > 0) {
                consumer.seek(tp, offset);
            } else {
                consumer.seekToBeginning(List.of(tp));
            }
        }
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
