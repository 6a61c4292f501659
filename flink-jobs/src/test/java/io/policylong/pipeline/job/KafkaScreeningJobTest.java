package io.policylong.pipeline.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.policy.KafkaPublisher;
import io.policylong.connectors.kafka.testutils.EmbeddedKafka;
import io.policylong.records.DeadLetter;
import io.policylong.records.Document;
import io.policylong.records.PolicyUpdate;
import io.policylong.records.TrainingSample;
import io.policylong.policy.CheckpointDigest;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.operators.PipelineProgress;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job against a real Kafka broker (in-process KRaft): documents and policy updates from topics, samples
 * and dead letters to topics in transactions, read back as a trainer would ({@code read_committed}).
 */
class KafkaScreeningJobTest {
    private static final Path ROOT = JobFixtures.tempRoot("kafka-job-test");

    @RegisterExtension
    static final MiniClusterExtension FLINK = JobFixtures.miniCluster(ROOT, 3, "500 ms");

    @TempDir
    static Path shared;

    static JobFixtures fixtures;
    static EmbeddedKafka kafka;

    @BeforeAll
    static void start() throws Exception {
        fixtures = JobFixtures.create(shared);
        kafka = EmbeddedKafka.start();
        for (String topic : List.of("documents", "policies", "samples", "dead-letters")) {
            kafka.createTopic(topic, topic.equals("documents") || topic.equals("samples") ? 2 : 1);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static PipelineConfig config() throws Exception {
        return config("");
    }

    /** The job on the topics {@code <prefix>documents} and so on, in consumer group {@code <prefix>screening}. */
    private static PipelineConfig config(String prefix) throws Exception {
        return config(prefix, 30000);
    }

    private static PipelineConfig config(String prefix, int maxRecordBytes) throws Exception {
        String yaml = String.join("\n",
                "input: {max-document-chars: 20000, max-document-tokens: 4000}",
                "retrieval: {index: " + fixtures.index() + ", top-k: 4, max-candidates: 4}",
                JobFixtures.commonYaml(),
                "runtime: {parallelism: 2, checkpoint-interval: 500ms, checkpoint-dir: " + ROOT.resolve("flink") + "}",
                "kafka:",
                "  bootstrap-servers: " + kafka.bootstrapServers(),
                "  documents-topic: " + prefix + "documents",
                "  policies-topic: " + prefix + "policies",
                "  samples-topic: " + prefix + "samples",
                "  dead-letters-topic: " + prefix + "dead-letters",
                "  group-id: " + prefix + "screening",
                "  transactional-id-prefix: " + prefix + "screening",
                "  max-record-bytes: " + maxRecordBytes,
                "  transaction-timeout: 1m",
                "  properties: {request.timeout.ms: 20000}");
        return PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "kafka test")
                .withAbsoluteLocations("kafka test");
    }

    private static void produce(String topic, String key, String value) throws Exception {
        try (KafkaPublisher publisher = new KafkaPublisher(kafka.bootstrapServers(), topic, Map.of())) {
            publisher.sendAndWait(key, value);
        }
    }

    private static void announce(long version, Path checkpoint) throws Exception {
        announce("", version, checkpoint);
    }

    private static void announce(String prefix, long version, Path checkpoint) throws Exception {
        PolicyUpdate update = new PolicyUpdate(version, checkpoint.toUri().toString(),
                CheckpointDigest.weightsSha256(checkpoint), null, Instant.now(), "kafka-test");
        produce(prefix + "policies", "kafka-test", update.toJson());
    }

    @Test
    void aJobStartedWithoutStateInAnExistingGroupReadsThePolicyTopicFromTheStart() throws Exception {
        String prefix = "stateless.";
        for (String topic : List.of("documents", "policies", "samples", "dead-letters")) {
            kafka.createTopic(prefix + topic, 1);
        }
        for (Document d : fixtures.documents()) {
            produce(prefix + "documents", d.id(), d.toJson());
        }
        announce(prefix, 0, fixtures.v0());
        // The group of an earlier job that read the policy: its committed offset is past the announcement.
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.alterConsumerGroupOffsets(prefix + "screening-policies",
                    Map.of(new TopicPartition(prefix + "policies", 0), new OffsetAndMetadata(1))).all().get();
        }
        JobClient job = JobRuns.start(StreamExecutionEnvironment.getExecutionEnvironment(), config(prefix), null);
        try {
            // Starting the policy topic at the group's offset, the job would never see version 0, and these
            // documents would wait for a policy forever.
            JobFixtures.waitUntilCommitted(0, fixtures.documents().size(), Duration.ofSeconds(90));
        } finally {
            job.cancel().get();
        }
    }

    @Test
    void documentsAndPoliciesFromTopicsGiveEverySampleExactlyOnce() throws Exception {
        for (Document d : fixtures.documents()) {
            produce("documents", d.id(), d.toJson());
        }
        produce("documents", "bad-1", "{not json");
        produce("documents", "bad-2", "{\"id\": \"no-text\"}");
        produce("documents", "bad-3", ("{\"id\": \"huge\", \"text\": \"" + "x".repeat(40_000) + "\"}"));
        produce("policies", "kafka-test", "[1, 2]");
        announce(0, fixtures.v0());

        JobClient client = JobRuns.start(StreamExecutionEnvironment.getExecutionEnvironment(), config(), null);
        JobFixtures.waitUntilCommitted(0, fixtures.documents().size());
        announce(1, fixtures.v1());
        JobFixtures.waitUntilCommitted(1, fixtures.documents().size());
        announce(0, fixtures.v1());
        PipelineProgress.waitUntilIdle(client, Duration.ofSeconds(2));
        client.stopWithSavepoint(false, ROOT.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL)
                .get();

        List<ConsumerRecord<String, String>> records = kafka.readCommitted("samples", Duration.ofSeconds(3));
        List<TrainingSample> samples = new ArrayList<>();
        for (ConsumerRecord<String, String> r : records) {
            TrainingSample sample = TrainingSample.fromJson(r.value());
            assertEquals(sample.documentId(), r.key(), "samples are keyed by document id");
            samples.add(sample);
        }
        Set<String> expected = new HashSet<>();
        for (Document d : fixtures.documents()) {
            expected.add(d.id() + "@0");
            expected.add(d.id() + "@1");
        }
        assertEquals(expected, samples.stream().map(s -> s.documentId() + "@" + s.policyVersion())
                .collect(Collectors.toSet()), "every document under both versions");
        assertEquals(expected.size(), samples.size(), "no sample missing, none duplicated");

        List<DeadLetter> letters = new ArrayList<>();
        for (ConsumerRecord<String, String> r : kafka.readCommitted("dead-letters", Duration.ofSeconds(2))) {
            letters.add(DeadLetter.fromJson(r.value()));
        }
        String reasons = letters.stream().map(l -> l.stage() + " " + l.origin() + ": " + l.reason())
                .collect(Collectors.joining("\n"));
        for (String reason : List.of("not valid JSON", "document no-text has no \"text\"",
                "more than the limit of 30000", "version 0 is not newer than the current version 1")) {
            assertTrue(reasons.contains(reason), "dead letter for '" + reason + "' in:\n" + reasons);
        }
        assertTrue(letters.stream().anyMatch(l -> l.stage().equals("policy") && l.origin() != null
                && l.origin().startsWith("policies/0@")), "a malformed policy record names its topic, partition "
                + "and offset:\n" + reasons);
        assertTrue(letters.stream().anyMatch(l -> l.origin() != null && l.origin().matches("documents/\\d@\\d+")),
                reasons);
    }

    @Test
    void aSampleLargerThanItsTopicAcceptsIsADeadLetterAndTheJobGoesOn() throws Exception {
        String prefix = "limited.";
        // The limit of the job and of its topics, as the deployment's KafkaTopics set it: every document fits,
        // every sample (its document and contexts) does not.
        int limit = fixtures.documents().stream().mapToInt(d -> d.toJson().getBytes(StandardCharsets.UTF_8).length)
                .max().orElseThrow() + 200;
        for (String topic : List.of("documents", "policies", "samples", "dead-letters")) {
            kafka.createTopic(prefix + topic, 1, Map.of("max.message.bytes", String.valueOf(limit)));
        }
        for (Document d : fixtures.documents()) {
            produce(prefix + "documents", d.id(), d.toJson());
        }
        announce(prefix, 0, fixtures.v0());
        JobClient job = JobRuns.start(StreamExecutionEnvironment.getExecutionEnvironment(), config(prefix, limit),
                null);
        List<DeadLetter> letters = new ArrayList<>();
        try {
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (letters.size() < fixtures.documents().size() && System.nanoTime() < deadline) {
                letters.clear();
                for (ConsumerRecord<String, String> r : kafka.readCommitted(prefix + "dead-letters",
                        Duration.ofMillis(500))) {
                    letters.add(DeadLetter.fromJson(r.value()));
                }
            }
            assertEquals(org.apache.flink.api.common.JobStatus.RUNNING, job.getJobStatus().get(), "the job goes on");
        } finally {
            job.cancel().get();
        }
        assertEquals(fixtures.documents().stream().map(Document::id).collect(Collectors.toSet()),
                letters.stream().map(DeadLetter::id).collect(Collectors.toSet()), "one dead letter per sample");
        assertTrue(letters.stream().allMatch(l -> l.stage().equals("output") && l.reason().contains(
                "larger than kafka.max-record-bytes (" + limit + ")")), letters.toString());
        assertEquals(List.of(), kafka.readCommitted(prefix + "samples", Duration.ofMillis(500)));
    }
}
