package io.policylong.pipeline.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.records.AnchorGain;
import io.policylong.records.DeadLetter;
import io.policylong.records.Document;
import io.policylong.records.PolicyUpdate;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import io.policylong.policy.CheckpointDigest;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.operators.PipelineProgress;
import io.policylong.pipeline.scoring.ScoringService;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job on a Flink mini cluster with RocksDB state: real checkpoints (tiny random models with the
 * byte-level tokenizer), a real Lucene index of Brown texts, JSONL files in and out.
 */
class ScreeningJobTest {
    private static final Path root = JobFixtures.tempRoot("screening-job-test");

    @RegisterExtension
    static final MiniClusterExtension FLINK = JobFixtures.miniCluster(root, 3, "500 ms");

    @TempDir
    static Path shared;

    static Path v0;
    static Path v1;
    static Path index;
    static List<Document> documents;

    @BeforeAll
    static void fixtures() throws Exception {
        JobFixtures f = JobFixtures.create(shared);
        v0 = f.v0();
        v1 = f.v1();
        index = f.index();
        documents = f.documents();
    }

    /** A configuration for one run in its own directory. */
    private static PipelineConfig config(Path run, Path documentsFile) throws Exception {
        return config(run, documentsFile, "");
    }

    /** @param inputSettings more {@code input} settings ({@code ", watch: 500ms"}, say) */
    private static PipelineConfig config(Path run, Path documents, String inputSettings) throws Exception {
        String yaml = String.join("\n",
                "input: {documents: " + documents + ", max-document-chars: 20000, max-document-tokens: 4000"
                        + inputSettings + "}",
                "policy: {checkpoints: " + run.resolve("checkpoints") + ", watch: 200ms}",
                "retrieval: {index: " + index + ", top-k: 4, max-candidates: 4}",
                JobFixtures.commonYaml(),
                "output: {samples: " + run.resolve("samples") + ", dead-letters: " + run.resolve("dead-letters") + "}",
                "runtime: {parallelism: 2, checkpoint-interval: 500ms, checkpoint-dir: " + run.resolve("flink") + "}");
        return PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "test")
                .withAbsoluteLocations("test");
    }

    private static Path writeDocuments(Path run, List<String> extraLines) throws Exception {
        List<String> lines = new ArrayList<>();
        for (Document d : documents) {
            lines.add(d.toJson());
        }
        lines.addAll(extraLines);
        Path file = run.resolve("documents.jsonl");
        Files.createDirectories(run);
        Files.write(file, lines, StandardCharsets.UTF_8);
        return file;
    }

    private static void announce(Path run, long version, Path checkpoint, String sha) throws Exception {
        PolicyDescriptorFiles.write(run.resolve("checkpoints"), new PolicyUpdate(version, checkpoint.toUri().toString(),
                sha, null, Instant.now(), "test"));
    }

    private static void waitForDeadLetter(Path run, String reason) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (!hasLineWith(run.resolve("dead-letters"), reason)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no dead letter with '" + reason + "'");
            }
            Thread.sleep(100);
        }
    }

    private static boolean hasLineWith(Path directory, String text) throws Exception {
        try {
            return committedLines(directory).stream().anyMatch(l -> l.contains(text));
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return false; // a part file was renamed while being listed: look again
        }
    }

    private static void stop(JobClient client, Path run) throws Exception {
        PipelineProgress.waitUntilIdle(client, Duration.ofSeconds(1));
        client.stopWithSavepoint(false, run.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL)
                .get();
    }

    private static List<String> committedLines(Path directory) throws Exception {
        return SampleChecks.committedLines(directory);
    }

    private static List<TrainingSample> samples(Path run) throws Exception {
        return SampleChecks.samples(run.resolve("samples"));
    }

    @Test
    void screensUnderBothVersionsAndRecordsRecomputableGains() throws Exception {
        Path run = root.resolve("two-versions");
        List<String> bad = new ArrayList<>(List.of(
                "{not json",
                "{\"id\": \"no-text\"}",
                "{\"id\": \"empty\", \"text\": \"   \"}",
                "{\"id\": \"huge\", \"text\": \"" + "x".repeat(25_000) + "\"}"));
        Path documentsFile = writeDocuments(run, bad);
        Files.write(documentsFile, new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}', '\n'},
                java.nio.file.StandardOpenOption.APPEND);
        announce(run, 0, v0, CheckpointDigest.weightsSha256(v0));
        PipelineConfig config = config(run, documentsFile);
        JobClient client = JobRuns.start(StreamExecutionEnvironment.getExecutionEnvironment(), config, null);
        JobFixtures.waitUntilCommitted(0, documents.size());
        // Broken announcements first: a missing checkpoint, a corrupt descriptor and weights that do not match
        // their sha256 change nothing.
        // One at a time: descriptors found in one listing of the directory may arrive in any order, and an older
        // version arriving after a newer one is rejected for that reason instead.
        announce(run, 1, shared.resolve("no-such-checkpoint"), null);
        waitForDeadLetter(run, "checkpoint directory does not exist");
        Files.writeString(run.resolve("checkpoints").resolve(PolicyDescriptorFiles.fileName(2)), "{\"version\": 2,");
        waitForDeadLetter(run, "policy-000000000002.json");
        announce(run, 3, v1, "0".repeat(64));
        waitForDeadLetter(run, "not the announced");
        announce(run, 4, v1, CheckpointDigest.weightsSha256(v1));
        JobFixtures.waitUntilCommitted(4, documents.size());
        stop(client, run);
        assertEquals(Set.of(0L, 4L), PipelineProgress.versionLatencies().keySet(),
                "accepted versions have an announcement-to-commit latency, rejected ones none");
        PipelineProgress.Throughput work = PipelineProgress.throughput();
        assertEquals(2L * documents.size(), work.screenings());
        assertTrue(work.forwardTokens() > work.documentTokens() && work.documentTokens() > 0 && work.seconds() > 0,
                work.toString());

        List<TrainingSample> samples = samples(run);
        Set<String> screened = samples.stream().map(s -> s.documentId() + "@" + s.policyVersion())
                .collect(Collectors.toSet());
        Set<String> expected = new HashSet<>();
        for (Document d : documents) {
            expected.add(d.id() + "@0");
            expected.add(d.id() + "@4");
        }
        assertEquals(expected, screened, "every document screened under both versions, nothing else");
        assertEquals(samples.size(), samples.stream().map(TrainingSample::sampleId).distinct().count(), "no duplicates");

        List<DeadLetter> letters = new ArrayList<>();
        for (String line : committedLines(run.resolve("dead-letters"))) {
            letters.add(DeadLetter.fromJson(line));
        }
        String reasons = letters.stream().map(l -> l.stage() + ": " + l.reason()).collect(Collectors.joining("\n"));
        for (String reason : List.of("not valid JSON", "document no-text has no \"text\"", "document empty has empty text",
                "more than the limit of 20000", "not valid UTF-8", "checkpoint directory does not exist",
                "policy-000000000002.json", "not the announced")) {
            assertTrue(reasons.contains(reason), "dead letter for '" + reason + "' in:\n" + reasons);
        }

        // Anyone with the same checkpoint can recompute H, H' and dI from what a sample says.
        int checked = SampleChecks.assertRecomputable(samples, version -> version == 0 ? v0 : v1, 6);
        assertTrue(checked > 0, "samples carry verified contexts to check");
    }

    @Test
    void aTaskFailureMidStreamLosesAndDuplicatesNothing() throws Exception {
        Set<String> undisturbed = sampleIds(root.resolve("undisturbed"), false);
        Set<String> recovered = sampleIds(root.resolve("recovered"), true);
        assertTrue(FailOnce.failed, "the failure happened");
        assertEquals(documents.size(), undisturbed.size());
        assertEquals(undisturbed, recovered, "the same samples, exactly once, after restarting from a checkpoint");
    }

    private Set<String> sampleIds(Path run, boolean fail) throws Exception {
        Path documentsFile = writeDocuments(run, List.of());
        announce(run, 0, v0, null);
        FailOnce tap = fail ? FailOnce.arm(4) : null;
        JobClient client = JobRuns.start(StreamExecutionEnvironment.getExecutionEnvironment(),
                config(run, documentsFile), tap == null ? null : lines -> lines.map(tap).name("fail once"));
        JobFixtures.waitUntilCommitted(0, documents.size());
        stop(client, run);
        List<TrainingSample> samples = samples(run);
        Set<String> ids = samples.stream().map(TrainingSample::sampleId).collect(Collectors.toSet());
        assertEquals(samples.size(), ids.size(), "no sample committed twice");
        assertFalse(ids.isEmpty());
        return ids;
    }

    @Test
    void aDocumentArrivingAgainIsScreenedAgainOnlyWhenItsTextChanged() throws Exception {
        Path run = root.resolve("duplicates");
        Document first = documents.get(0);
        Document changed = new Document(first.id(), first.text() + " A closing sentence added later.",
                first.source(), first.meta());
        List<String> again = new ArrayList<>();
        for (Document d : documents) {
            again.add(d.toJson());
        }
        again.add(changed.toJson());
        Path documentsFile = writeDocuments(run, again);
        announce(run, 0, v0, null);
        // The documents arrive once the policy is in force: a text replaced while its document still waited for
        // a first policy is screened only in its newest form (ScreeningSchedulerTest).
        Path in = Files.createDirectories(run.resolve("in"));
        JobClient client = JobRuns.start(StreamExecutionEnvironment.getExecutionEnvironment(),
                config(run, in, ", watch: 200ms"), null);
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (PipelineProgress.latestVersion() < 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        Files.move(documentsFile, in.resolve("documents.jsonl"));
        // Every document once, and the first again for its new text.
        while (PipelineProgress.snapshot().committed() < documents.size() + 1 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        stop(client, run);

        List<TrainingSample> samples = samples(run);
        assertEquals(documents.size() + 1, samples.size(), "duplicates screened once, the new text once more; dead "
                + "letters: " + committedLines(run.resolve("dead-letters")));
        assertEquals(samples.size(), samples.stream().map(TrainingSample::sampleId).distinct().count());
        List<String> texts = samples.stream().filter(s -> s.documentId().equals(first.id()))
                .map(s -> s.segments().stream().filter(x -> x.role() == SampleSegment.Role.DOCUMENT)
                        .map(SampleSegment::text).collect(Collectors.joining()))
                .sorted().toList();
        assertEquals(2, texts.size(), texts.toString());
        assertTrue(texts.get(0).contains("A closing sentence added later.") != texts.get(1).contains(
                "A closing sentence added later."), "one sample of each text");
    }

    @Test
    void aScreeningThatFailedForGoodIsScreenedAgainOnceItsCheckpointLoads() throws Exception {
        Path run = root.resolve("failed-for-good");
        Path in = Files.createDirectories(run.resolve("in"));
        Path checkpoint = run.resolve("policy");
        Files.createDirectories(checkpoint);
        try (Stream<Path> files = Files.list(v0)) {
            for (Path f : files.toList()) {
                Files.copy(f, checkpoint.resolve(f.getFileName()));
            }
        }
        String yaml = String.join("\n",
                "input: {documents: " + in + ", watch: 500ms, max-document-chars: 20000, max-document-tokens: 4000}",
                "policy: {checkpoints: " + run.resolve("checkpoints") + ", watch: 200ms}",
                "retrieval: {index: " + index + ", top-k: 4, max-candidates: 4}",
                "screening: {alpha: 0.5, max-anchors: 3, skip-first: 8, window-tokens: 256, left-context: 64}",
                "assembly: {target-tokens: 4096, min-fill: 0.0, require-positive: false}",
                "rescreen: {documents-per-second: 50}",
                "scoring: {device: cpu, max-delay: 5ms, capacity: 4, attempts: 2, retry-delay: 100ms, timeout: 20s,",
                "          rescreen-failed: 8}",
                "output: {samples: " + run.resolve("samples") + ", dead-letters: " + run.resolve("dead-letters") + "}",
                "runtime: {parallelism: 1, checkpoint-interval: 500ms, checkpoint-dir: " + run.resolve("flink") + "}");
        PipelineConfig config = PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "test")
                .withAbsoluteLocations("test");
        announce(run, 0, checkpoint, null);
        JobClient client = JobRuns.start(StreamExecutionEnvironment.getExecutionEnvironment(), config, null);
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (PipelineProgress.latestVersion() < 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        // The checkpoint goes away after it was accepted: every attempt to load it fails.
        Path away = run.resolve("policy-away");
        Files.move(checkpoint, away);
        List<Document> two = documents.subList(0, 2);
        Files.write(in.resolve(".docs"), two.stream().map(Document::toJson).toList(), StandardCharsets.UTF_8);
        Files.move(in.resolve(".docs"), in.resolve("docs.jsonl"));
        while (committedLines(run.resolve("dead-letters")).stream().filter(l -> l.contains("\"retryable\":true"))
                .count() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        Files.move(away, checkpoint); // it comes back
        Set<String> wanted = two.stream().map(Document::id).collect(Collectors.toSet());
        while (!samples(run).stream().map(TrainingSample::documentId).collect(Collectors.toSet()).containsAll(wanted)
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        client.cancel().get();
        List<TrainingSample> samples = samples(run);
        assertEquals(wanted, samples.stream().map(TrainingSample::documentId).collect(Collectors.toSet()),
                "both documents screened once their checkpoint could be loaded; dead letters: "
                        + committedLines(run.resolve("dead-letters")));
        assertEquals(samples.size(), samples.stream().map(TrainingSample::sampleId).distinct().count());
        List<DeadLetter> letters = new ArrayList<>();
        for (String line : committedLines(run.resolve("dead-letters"))) {
            letters.add(DeadLetter.fromJson(line));
        }
        assertTrue(letters.stream().allMatch(l -> l.screening() != null && l.screening().retryable()
                && l.screening().policyVersion() == 0 && l.reason().contains("could not be loaded")), letters.toString());
    }

    @Test
    void versionsAnnouncedBackToBackWhileScreeningsAreInFlightAllComplete() throws Exception {
        Path run = root.resolve("back-to-back");
        Path documentsFile = writeDocuments(run, List.of());
        announce(run, 0, v0, null);
        // One policy version resident besides the newest: versions are evicted while screenings still use them.
        String yaml = String.join("\n",
                "input: {documents: " + documentsFile + ", max-document-chars: 20000, max-document-tokens: 4000}",
                "policy: {checkpoints: " + run.resolve("checkpoints") + ", watch: 100ms, resident-versions: 2}",
                "retrieval: {index: " + index + ", top-k: 4, max-candidates: 4}",
                JobFixtures.commonYaml(),
                "output: {samples: " + run.resolve("samples") + ", dead-letters: " + run.resolve("dead-letters") + "}",
                "runtime: {parallelism: 2, checkpoint-interval: 500ms, checkpoint-dir: " + run.resolve("flink") + "}");
        PipelineConfig config = PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "test")
                .withAbsoluteLocations("test");
        JobClient client = JobRuns.start(StreamExecutionEnvironment.getExecutionEnvironment(), config, null);
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (PipelineProgress.snapshot().documents() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Path v2 = run.resolve("v2");
        Path v3 = run.resolve("v3");
        for (Path copy : List.of(v2, v3)) {
            Files.createDirectories(copy);
            try (Stream<Path> files = Files.list(copy == v2 ? v0 : v1)) {
                for (Path f : files.toList()) {
                    Files.copy(f, copy.resolve(f.getFileName()));
                }
            }
        }
        announce(run, 1, v1, null);
        announce(run, 2, v2, null);
        announce(run, 3, v3, null);
        JobFixtures.waitUntilCommitted(3, documents.size());
        PipelineProgress.waitUntilIdle(client, Duration.ofSeconds(1));
        Set<Long> loaded = ScoringService.loadedVersions();
        stop(client, run);

        List<String> letters = committedLines(run.resolve("dead-letters"));
        assertTrue(letters.isEmpty(), "no screening timed out or failed: " + letters);
        Set<String> latest = samples(run).stream().filter(s -> s.policyVersion() == 3)
                .map(TrainingSample::documentId).collect(Collectors.toSet());
        assertEquals(documents.stream().map(Document::id).collect(Collectors.toSet()), latest);
        assertTrue(loaded.contains(3L) && loaded.size() <= 2, "the newest version resident, evicted ones freed: "
                + loaded);
    }
}
