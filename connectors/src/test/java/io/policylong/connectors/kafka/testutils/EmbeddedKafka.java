package io.policylong.connectors.kafka.testutils;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.common.utils.Exit;

/**
 * A real single-node Kafka cluster (KRaft, broker and controller combined) inside the test JVM, on Kafka's own
 * test kit. Start-up is retried, because quorum formation can time out on a loaded machine, and Kafka's
 * {@code Exit} procedures are replaced while it runs, so that a broker fault fails the test instead of
 * ending the JVM. Replication settings are those a single node can satisfy, transactions included.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final int START_ATTEMPTS = 3;

    private final KafkaClusterTestKit cluster;

    private EmbeddedKafka(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    /**
     * Replaces Kafka's {@code Exit} procedures so that a broker in this JVM that hits a fatal error fails the
     * test instead of ending the JVM; {@link #releaseExit} restores them.
     */
    public static void guardExit() {
        Exit.setExitProcedure((code, message) -> {
            throw new IllegalStateException("the Kafka broker tried to exit with " + code + ": " + message);
        });
        Exit.setHaltProcedure((code, message) -> {
            throw new IllegalStateException("the Kafka broker tried to halt with " + code + ": " + message);
        });
    }

    /** Gives Kafka's {@code Exit} procedures back. */
    public static void releaseExit() {
        Exit.resetExitProcedure();
        Exit.resetHaltProcedure();
    }

    /** Starts a cluster and waits until its broker is ready. */
    public static EmbeddedKafka start() throws Exception {
        guardExit();
        Exception last = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                    .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("offsets.topic.num.partitions", "1")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("transaction.state.log.num.partitions", "1")
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .build();
            try {
                cluster.format();
                cluster.startup();
                cluster.waitForReadyBrokers();
                return new EmbeddedKafka(cluster);
            } catch (Exception e) {
                last = e;
                closeQuietly(cluster);
            }
        }
        releaseExit();
        throw new IllegalStateException("the embedded Kafka cluster did not start in " + START_ATTEMPTS + " attempts",
                last);
    }

    /** {@code host:port} of the broker. */
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** Creates a topic with one replica and waits until it exists. */
    public void createTopic(String name, int partitions) throws Exception {
        createTopic(name, partitions, Map.of());
    }

    /** Creates a topic with one replica and these topic configurations, and waits until it exists. */
    public void createTopic(String name, int partitions, Map<String, String> configs) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs))).all()
                    .get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * Reads every committed record of a topic from the beginning, as a transactional consumer must
     * ({@code isolation.level=read_committed}), until no record arrives for {@code quiet}.
     */
    public List<ConsumerRecord<String, String>> readCommitted(String topic, Duration quiet) {
        return readCommitted(bootstrapServers(), topic, quiet);
    }

    /** {@link #readCommitted(String, Duration)} on any cluster. */
    public static List<ConsumerRecord<String, String>> readCommitted(String bootstrapServers, String topic,
            Duration quiet) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long quietUntil = System.nanoTime() + quiet.toNanos();
            while (System.nanoTime() < quietUntil) {
                var batch = consumer.poll(Duration.ofMillis(200));
                if (!batch.isEmpty()) {
                    batch.forEach(records::add);
                    quietUntil = System.nanoTime() + quiet.toNanos();
                }
            }
        }
        return records;
    }

    /** Stops the cluster, deletes its data and gives Kafka's {@code Exit} procedures back. */
    @Override
    public void close() throws Exception {
        try {
            cluster.close();
        } finally {
            releaseExit();
        }
    }

    private static void closeQuietly(KafkaClusterTestKit cluster) {
        try {
            cluster.close();
        } catch (Exception ignored) {
            // A cluster that failed to start may fail to close; the next attempt starts a new one.
        }
    }
}
