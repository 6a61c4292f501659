package io.policylong.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.connectors.kafka.testutils.EmbeddedKafka;
import io.policylong.pipeline.job.JobFixtures;
import io.policylong.pipeline.job.SampleChecks;
import io.policylong.pipeline.staging.RemoteTestFileSystemFactory;
import io.policylong.policy.CheckpointAnnouncer;
import io.policylong.policy.CheckpointDigest;
import io.policylong.policy.KafkaPublisher;
import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.records.DeadLetter;
import io.policylong.records.Document;
import io.policylong.records.PolicyUpdate;
import io.policylong.records.TrainingSample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The job jar on a real standalone Flink cluster: a JobManager and two TaskManagers, each its own JVM, started
 * from a distribution's jars with {@code cluster-lib/} and {@code conf/flink-cluster.yaml}. One cluster serves the
 * whole class; the steps build on each other: a files job across both TaskManagers screens under two versions
 * while a TaskManager is killed, refuses a checkpoint changed after its announcement, is stopped with a
 * savepoint and submitted again; then a second job, through Kafka and submitted with the {@code flink} command,
 * runs beside it.
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScreeningJobOnClusterTest {
    private static final Duration WAIT = Duration.ofMinutes(3);

    static Path root;
    static JobFixtures fixtures;
    static FlinkProcessCluster cluster;
    static EmbeddedKafka kafka;
    static String jarId;

    /** The files job: its directory and its id on the cluster. */
    static Path files;
    static String filesJob;

    @BeforeAll
    static void start() throws Exception {
        root = Files.createTempDirectory("cluster-test");
        fixtures = JobFixtures.create(Files.createDirectories(root.resolve("fixtures")));
        kafka = EmbeddedKafka.start();
        Path plugin = RemoteFileSystemPlugin.write(root.resolve("remote-test-fs.jar"));
        cluster = FlinkProcessCluster.start(root.resolve("cluster"), 2, 3, List.of(plugin), Map.of());
        jarId = cluster.rest().uploadJar(FlinkProcessCluster.jobJar());
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static String settings(Path run) {
        return String.join("\n",
                "screening: {alpha: 0.5, max-anchors: 3, skip-first: 8, window-tokens: 256, left-context: 64,",
                "            epsilon: 0.99, epsilon-neg: 0.98}",
                "assembly: {target-tokens: 4096, min-fill: 0.0, require-positive: false}",
                "rescreen: {documents-per-second: 0.5}",
                "scoring: {device: cpu, max-delay: 5ms, capacity: 4}",
                "runtime: {parallelism: 2, checkpoint-interval: 1s, checkpoint-dir: " + run.resolve("flink").toUri()
                        + ", cache-dir: " + root.resolve("cache") + "}");
    }

    private static void writeDocuments(Path directory, String name, List<Document> documents) throws Exception {
        Files.createDirectories(directory);
        Path temp = directory.resolve("." + name);
        Files.write(temp, documents.stream().map(Document::toJson).toList());
        // The source picks up complete files only: move each in whole.
        Files.move(temp, directory.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    private static void announce(Path checkpoints, long version, String uri, String sha) throws Exception {
        PolicyDescriptorFiles.write(checkpoints, new PolicyUpdate(version, uri, sha, null, Instant.now(), "cluster"));
    }

    private static Set<String> screened(List<TrainingSample> samples) {
        return samples.stream().map(s -> s.documentId() + "@" + s.policyVersion()).collect(Collectors.toSet());
    }

    private static Set<String> expected(List<Document> documents, long... versions) {
        Set<String> set = new HashSet<>();
        for (Document d : documents) {
            for (long v : versions) {
                set.add(d.id() + "@" + v);
            }
        }
        return set;
    }

    private static List<TrainingSample> awaitSamples(Path samples, Set<String> wanted) throws Exception {
        return FlinkRest.await(() -> SampleChecks.samples(samples), s -> screened(s).containsAll(wanted), WAIT,
                "samples " + wanted);
    }

    private static Document late(int n) {
        Document d = fixtures.documents().get(n);
        return new Document("late~" + n, d.text(), d.source(), d.meta());
    }

    @Test
    @Order(1)
    void screensOnBothTaskManagersUnderTwoVersionsThroughATaskManagerCrash() throws Exception {
        files = root.resolve("files");
        List<Document> documents = fixtures.documents();
        writeDocuments(files.resolve("in"), "documents-0.jsonl", documents);
        Path config = files.resolve("job.yaml");
        Files.writeString(config, String.join("\n",
                "input: {documents: " + files.resolve("in") + ", watch: 1s, max-document-chars: 20000,"
                        + " max-document-tokens: 4000}",
                "policy: {checkpoints: " + files.resolve("checkpoints") + ", watch: 200ms}",
                // The index stands on a remote file system: the TaskManagers stage a copy in their local cache.
                "retrieval: {index: " + RemoteTestFileSystemFactory.uri(fixtures.index())
                        + ", top-k: 4, max-candidates: 4}",
                "output: {samples: " + files.resolve("samples") + ", dead-letters: " + files.resolve("dead-letters")
                        + "}",
                settings(files)));
        announce(files.resolve("checkpoints"), 0, fixtures.v0().toUri().toString(),
                CheckpointDigest.weightsSha256(fixtures.v0()));

        filesJob = cluster.rest().runJar(jarId, List.of("--config", config.toString()), null, null);
        FlinkRest.await(() -> cluster.rest().allTasksRunning(filesJob), running -> running, WAIT, "the job running");
        assertEquals(Set.of("tm-1", "tm-2"), cluster.rest().taskManagersOf(filesJob),
                "parallelism 2 is spread over both TaskManagers");
        awaitSamples(files.resolve("samples"), expected(documents, 0));

        // Version 1 is a checkpoint on the remote file system; kill a TaskManager while it is re-screening.
        announce(files.resolve("checkpoints"), 1, RemoteTestFileSystemFactory.uri(fixtures.v1()),
                CheckpointDigest.weightsSha256(fixtures.v1()));
        FlinkRest.await(() -> SampleChecks.samples(files.resolve("samples")),
                s -> s.stream().anyMatch(x -> x.policyVersion() == 1), WAIT, "the first sample under version 1");
        cluster.kill("tm-2");
        cluster.startTaskManager("tm-3");
        List<TrainingSample> samples = awaitSamples(files.resolve("samples"), expected(documents, 0, 1));
        assertTrue(cluster.rest().restoredCheckpoints(filesJob) >= 1, "the job restarted from a checkpoint");

        assertEquals(expected(documents, 0, 1), screened(samples), "every document under both versions, no more");
        Set<String> ids = samples.stream().map(TrainingSample::sampleId).collect(Collectors.toSet());
        assertEquals(samples.size(), ids.size(), "nothing committed twice: " + samples.size() + " samples");
        assertTrue(SampleChecks.assertRecomputable(samples, v -> v == 0 ? fixtures.v0() : fixtures.v1(), 6) > 0,
                "H, H' and dI recompute from the samples");
    }

    @Test
    @Order(2)
    void aCheckpointChangedAfterItsAnnouncementIsRejectedAndTheCurrentPolicyKeepsServing() throws Exception {
        Path changed = root.resolve("changed");
        Files.createDirectories(changed);
        try (var entries = Files.list(fixtures.v1())) {
            for (Path f : entries.toList()) {
                Files.copy(f, changed.resolve(f.getFileName()));
            }
        }
        PolicyUpdate described = CheckpointAnnouncer.describe(changed, 2, null, "cluster");
        byte[] weights = Files.readAllBytes(changed.resolve("model.safetensors"));
        weights[weights.length - 1] ^= 1;
        Files.write(changed.resolve("model.safetensors"), weights);
        PolicyDescriptorFiles.write(files.resolve("checkpoints"), described);

        List<DeadLetter> letters = FlinkRest.await(() -> {
            List<DeadLetter> read = new ArrayList<>();
            for (String line : SampleChecks.committedLines(files.resolve("dead-letters"))) {
                read.add(DeadLetter.fromJson(line));
            }
            return read;
        }, l -> l.stream().anyMatch(d -> d.stage().equals("policy")), WAIT, "the policy dead letter");
        DeadLetter rejected = letters.stream().filter(d -> d.stage().equals("policy")).findFirst().orElseThrow();
        assertEquals("version 2", rejected.id());
        assertTrue(rejected.reason().contains("weights sha256 is") && rejected.reason().contains(described.sha256()),
                rejected.reason());

        writeDocuments(files.resolve("in"), "documents-1.jsonl", List.of(late(1)));
        List<TrainingSample> samples = awaitSamples(files.resolve("samples"), Set.of("late~1@1"));
        assertTrue(samples.stream().noneMatch(s -> s.policyVersion() == 2), "nothing screened under version 2");
    }

    @Test
    @Order(3)
    void stoppedWithASavepointAndSubmittedAgainItKeepsItsPolicyAndScreensNothingTwice() throws Exception {
        List<TrainingSample> before = SampleChecks.samples(files.resolve("samples"));
        String savepoint = cluster.rest().stopWithSavepoint(filesJob, files.resolve("savepoints").toUri().toString(),
                WAIT);
        assertEquals("FINISHED", cluster.rest().jobState(filesJob));
        writeDocuments(files.resolve("in"), "documents-2.jsonl", List.of(late(2)));

        // The upgrade: the same job submitted again from its savepoint, into the same TaskManager JVMs.
        filesJob = cluster.rest().runJar(jarId, List.of("--config", files.resolve("job.yaml").toString()), null,
                savepoint);
        List<TrainingSample> after = awaitSamples(files.resolve("samples"), Set.of("late~2@1"));
        Set<String> expected = screened(before);
        expected.add("late~2@1");
        assertEquals(expected, screened(after), "the new document under the kept policy, and nothing screened again");
        assertEquals(after.size(), after.stream().map(TrainingSample::sampleId).distinct().count(), "no duplicates");
    }

    @Test
    @Order(4)
    void aSecondJobThroughKafkaRunsBesideTheFirstOnTheSameTaskManagers() throws Exception {
        String prefix = "second.";
        for (String topic : List.of("documents", "policies", "samples", "dead-letters")) {
            kafka.createTopic(prefix + topic, topic.equals("policies") || topic.equals("dead-letters") ? 1 : 2);
        }
        Path run = root.resolve("kafka");
        Path config = run.resolve("job.yaml");
        Files.createDirectories(run);
        Files.writeString(config, String.join("\n",
                "input: {max-document-chars: 20000, max-document-tokens: 4000}",
                "retrieval: {index: " + fixtures.index() + ", top-k: 4, max-candidates: 4}",
                "kafka:",
                "  bootstrap-servers: " + kafka.bootstrapServers(),
                "  documents-topic: " + prefix + "documents",
                "  policies-topic: " + prefix + "policies",
                "  samples-topic: " + prefix + "samples",
                "  dead-letters-topic: " + prefix + "dead-letters",
                "  group-id: second",
                "  transactional-id-prefix: second",
                "  transaction-timeout: 2m",
                settings(run)));
        try (KafkaPublisher documents = new KafkaPublisher(kafka.bootstrapServers(), prefix + "documents", Map.of())) {
            for (Document d : fixtures.documents()) {
                documents.sendAndWait(d.id(), d.toJson());
            }
        }
        announceOnTopic(prefix + "policies", 0, fixtures.v0());

        // Submitted the way the README says: the flink command with the job jar and its configuration.
        String printed = cluster.flinkCommand(List.of("run", "--detached",
                FlinkProcessCluster.jobJar().toString(), "--config", config.toString()));
        Matcher submitted = Pattern.compile("JobID ([0-9a-f]{32})").matcher(printed);
        assertTrue(submitted.find(), printed);
        String kafkaJob = submitted.group(1);
        awaitTopicSamples(prefix + "samples", expected(fixtures.documents(), 0));
        announceOnTopic(prefix + "policies", 1, fixtures.v1());
        List<TrainingSample> samples = awaitTopicSamples(prefix + "samples", expected(fixtures.documents(), 0, 1));

        assertEquals(expected(fixtures.documents(), 0, 1), screened(samples));
        assertEquals(samples.size(), samples.stream().map(TrainingSample::sampleId).distinct().count(),
                "no duplicates");
        assertTrue(SampleChecks.assertRecomputable(samples, v -> v == 0 ? fixtures.v0() : fixtures.v1(), 4) > 0,
                "H, H' and dI recompute from the samples read from the topic");
        assertTrue(cluster.rest().runningJobs().containsAll(List.of(filesJob, kafkaJob)),
                "both jobs run on the same session cluster");
        assertEquals(List.of(), cluster.logLines("UnsatisfiedLinkError"),
                "the engine's native libraries load once per TaskManager, whatever job uses them");
    }

    private static void announceOnTopic(String topic, long version, Path checkpoint) throws Exception {
        try (KafkaPublisher policies = new KafkaPublisher(kafka.bootstrapServers(), topic, Map.of())) {
            policies.sendAndWait("cluster", new PolicyUpdate(version, checkpoint.toUri().toString(),
                    CheckpointDigest.weightsSha256(checkpoint), null, Instant.now(), "cluster").toJson());
        }
    }

    private static List<TrainingSample> awaitTopicSamples(String topic, Set<String> wanted) throws Exception {
        return FlinkRest.await(() -> {
            List<TrainingSample> samples = new ArrayList<>();
            for (ConsumerRecord<String, String> r : kafka.readCommitted(topic, Duration.ofMillis(500))) {
                samples.add(TrainingSample.fromJson(r.value()));
            }
            return samples;
        }, s -> screened(s).containsAll(wanted), WAIT, "samples " + wanted + " on " + topic);
    }
}
