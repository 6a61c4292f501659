package io.policylong.cli.local;

import io.policylong.pipeline.job.FailOnce;
import io.policylong.pipeline.job.JobFixtures;
import io.policylong.pipeline.operators.PipelineProgress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.policy.KafkaPublisher;
import io.policylong.connectors.kafka.testutils.EmbeddedKafka;
import io.policylong.records.Document;
import io.policylong.records.PolicyUpdate;
import io.policylong.records.TrainingSample;
import io.policylong.policy.CheckpointDigest;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.screening.SampleAssembler;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once through Kafka under faults: a task failure mid-stream, and a broker restart mid-stream. The
 * broker here is the project's local KRaft node (fixed port, data kept across a restart), so it can really be
 * stopped and started again. Each run uses its own topics, and its committed samples must be exactly one per
 * document, with the ids an undisturbed run gives.
 */
class KafkaFaultsTest {
    private static final Path ROOT = JobFixtures.tempRoot("kafka-faults-test");

    @RegisterExtension
    static final MiniClusterExtension FLINK = JobFixtures.miniCluster(ROOT, 20, "1 s");

    @TempDir
    static Path shared;

    static JobFixtures fixtures;
    static int port;
    static LocalKafkaBroker broker;

    @BeforeAll
    static void start() throws Exception {
        EmbeddedKafka.guardExit();
        fixtures = JobFixtures.create(shared);
        port = freePortPair();
        broker = LocalKafkaBroker.start(ROOT.resolve("kafka"), "127.0.0.1", port);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
        EmbeddedKafka.releaseExit();
    }

    /** A port whose next port is free too (the controller listens there). */
    private static int freePortPair() throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket a = new ServerSocket(0)) {
                int p = a.getLocalPort();
                try (ServerSocket b = new ServerSocket(p + 1)) {
                    return p;
                } catch (java.io.IOException taken) {
                    // try another
                }
            }
        }
        throw new IllegalStateException("no two adjacent free ports");
    }

    private static String bootstrap() {
        return "127.0.0.1:" + port;
    }

    private static PipelineConfig config(String run) throws Exception {
        String yaml = String.join("\n",
                "input: {max-document-chars: 20000, max-document-tokens: 4000}",
                "retrieval: {index: " + fixtures.index() + ", top-k: 4, max-candidates: 4}",
                JobFixtures.commonYaml(),
                "runtime: {parallelism: 2, checkpoint-interval: 500ms, checkpoint-dir: " + ROOT.resolve(run) + "}",
                "kafka:",
                "  bootstrap-servers: " + bootstrap(),
                "  documents-topic: " + run + ".documents",
                "  policies-topic: " + run + ".policies",
                "  samples-topic: " + run + ".samples",
                "  dead-letters-topic: " + run + ".dead-letters",
                "  group-id: " + run,
                "  transactional-id-prefix: " + run,
                "  transaction-timeout: 1m");
        return PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), run)
                .withAbsoluteLocations(run);
    }

    private static void feed(String run) throws Exception {
        try (KafkaPublisher documents = new KafkaPublisher(bootstrap(), run + ".documents", Map.of())) {
            for (Document d : fixtures.documents()) {
                documents.sendAndWait(d.id(), d.toJson());
            }
        }
        try (KafkaPublisher policies = new KafkaPublisher(bootstrap(), run + ".policies", Map.of())) {
            policies.sendAndWait("test", new PolicyUpdate(0, fixtures.v0().toUri().toString(),
                    CheckpointDigest.weightsSha256(fixtures.v0()), null, Instant.now(), "test").toJson());
        }
    }

    private static List<String> committedSampleIds(String topic) throws Exception {
        List<String> ids = new ArrayList<>();
        for (var r : EmbeddedKafka.readCommitted(bootstrap(), topic, Duration.ofSeconds(3))) {
            ids.add(TrainingSample.fromJson(r.value()).sampleId());
        }
        return ids;
    }

    private static void assertExactlyOnePerDocument(String run) throws Exception {
        List<String> ids = committedSampleIds(run + ".samples");
        Set<String> undisturbed = fixtures.documents().stream().map(d -> SampleAssembler.sampleId(d.id(), 0, d.text()))
                .collect(Collectors.toSet());
        assertEquals(undisturbed, Set.copyOf(ids), "the samples of an undisturbed run");
        assertEquals(undisturbed.size(), ids.size(), "none duplicated: " + ids);
    }

    private static JobClient startJob(String run, FailOnce tap) throws Exception {
        EmbeddedRunner runner = new EmbeddedRunner(config(run), new PrintWriter(new StringWriter()));
        if (tap != null) {
            runner.withInputTap(lines -> lines.map(tap).name("fail once"));
        }
        return runner.run(StreamExecutionEnvironment.getExecutionEnvironment(), null);
    }

    private static void stopJob(JobClient client, String run) throws Exception {
        PipelineProgress.waitUntilIdle(client, Duration.ofSeconds(1));
        client.stopWithSavepoint(false, ROOT.resolve(run + "-savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL).get();
    }

    @Test
    void aTaskFailureMidStreamCommitsEverySampleOnce() throws Exception {
        String run = "task-failure";
        feed(run);
        JobClient client = startJob(run, FailOnce.arm(3));
        JobFixtures.waitUntilCommitted(0, fixtures.documents().size());
        stopJob(client, run);
        assertTrue(FailOnce.failed, "the failure happened");
        assertExactlyOnePerDocument(run);
    }

    @Test
    void aRestoredJobKeepsItsPolicyWithoutTheTopicResendingIt() throws Exception {
        String run = "restore";
        List<Document> all = fixtures.documents();
        try (KafkaPublisher documents = new KafkaPublisher(bootstrap(), run + ".documents", Map.of())) {
            for (Document d : all.subList(0, 3)) {
                documents.sendAndWait(d.id(), d.toJson());
            }
        }
        try (KafkaPublisher policies = new KafkaPublisher(bootstrap(), run + ".policies", Map.of())) {
            policies.sendAndWait("test", new PolicyUpdate(0, fixtures.v0().toUri().toString(), null, null,
                    Instant.now(), "test").toJson());
        }
        JobClient first = startJob(run, null);
        JobFixtures.waitUntilCommitted(0, 3);
        PipelineProgress.waitUntilIdle(first, Duration.ofSeconds(1));
        String savepoint = first.stopWithSavepoint(false, ROOT.resolve(run + "-savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL).get();

        // New documents, no new announcement: the restored job screens them under the policy it had.
        try (KafkaPublisher documents = new KafkaPublisher(bootstrap(), run + ".documents", Map.of())) {
            for (Document d : all.subList(3, all.size())) {
                documents.sendAndWait(d.id(), d.toJson());
            }
        }
        Configuration restore = new Configuration();
        restore.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        JobClient second = new EmbeddedRunner(config(run), new PrintWriter(new StringWriter()))
                .run(StreamExecutionEnvironment.getExecutionEnvironment(restore), null);
        JobFixtures.waitUntilCommitted(0, all.size() - 3);
        stopJob(second, run);
        assertExactlyOnePerDocument(run);
    }

    @Test
    void aBrokerRestartMidStreamCommitsEverySampleOnce() throws Exception {
        String run = "broker-restart";
        feed(run);
        JobClient client = startJob(run, FailOnce.arm(Integer.MAX_VALUE));
        // Restart the broker while documents are still trickling through the slow input.
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (FailOnce.SEEN.get() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        broker.close();
        Thread.sleep(2000);
        broker = LocalKafkaBroker.start(ROOT.resolve("kafka"), "127.0.0.1", port);
        JobFixtures.waitUntilCommitted(0, fixtures.documents().size());
        stopJob(client, run);
        assertTrue(FailOnce.SEEN.get() >= fixtures.documents().size(), "every document went through the input");
        assertExactlyOnePerDocument(run);
    }
}
