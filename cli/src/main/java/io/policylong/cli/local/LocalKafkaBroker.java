package io.policylong.cli.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A single-node Kafka (KRaft: broker and controller in one process) from the Kafka jars of the build, for
 * trying the Kafka mode on one machine. Its data directory is formatted on first start and reused after, so
 * topics and committed records survive a restart. Replication settings are those one node can satisfy,
 * transactions included. Not a production deployment.
 */
public final class LocalKafkaBroker implements AutoCloseable {
    private final KafkaRaftServer server;
    private final String bootstrapServers;

    private LocalKafkaBroker(KafkaRaftServer server, String bootstrapServers) {
        this.server = server;
        this.bootstrapServers = bootstrapServers;
    }

    /**
     * Formats {@code dataDirectory} when it is new, then starts the node.
     *
     * @param port client port (the controller listens on the next one)
     */
    public static LocalKafkaBroker start(Path dataDirectory, String host, int port) throws IOException {
        Path logs = dataDirectory.toAbsolutePath().resolve("logs");
        Files.createDirectories(logs);
        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.bootstrap.servers", host + ":" + (port + 1));
        props.put("listeners", "PLAINTEXT://" + host + ":" + port + ",CONTROLLER://" + host + ":" + (port + 1));
        props.put("advertised.listeners", "PLAINTEXT://" + host + ":" + port + ",CONTROLLER://" + host + ":"
                + (port + 1));
        props.put("controller.listener.names", "CONTROLLER");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("log.dirs", logs.toString());
        props.put("num.partitions", "1");
        props.put("offsets.topic.replication.factor", "1");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        Path config = dataDirectory.toAbsolutePath().resolve("server.properties");
        try (OutputStream out = Files.newOutputStream(config)) {
            props.store(out, "written by policylong broker");
        }
        if (!Files.exists(logs.resolve("meta.properties"))) {
            ByteArrayOutputStream messages = new ByteArrayOutputStream();
            int code = StorageTool.execute(new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c",
                config.toString(), "--standalone"}, new PrintStream(messages, true, StandardCharsets.UTF_8));
            if (code != 0) {
                throw new IOException("formatting " + logs + " failed: " + messages.toString(StandardCharsets.UTF_8));
            }
        }
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props), Time.SYSTEM);
        server.startup();
        return new LocalKafkaBroker(server, host + ":" + port);
    }

    /** {@code host:port} for clients. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Blocks until the node has shut down. */
    public void awaitShutdown() {
        server.awaitShutdown();
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
    }
}
