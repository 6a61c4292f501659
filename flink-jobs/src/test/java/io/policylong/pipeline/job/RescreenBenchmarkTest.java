package io.policylong.pipeline.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.corpus.BrownCorpus;
import io.policylong.corpus.testing.Corpora;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.operators.PipelineProgress;
import io.policylong.policy.CheckpointAnnouncer;
import io.policylong.records.Document;
import io.policylong.records.TrainingSample;
import io.policylong.text.TextChunks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Re-screening a pool of 10,000 stored documents after a version advance: the job's state size before the
 * advance and while the re-screens are parked, and how long a document arriving just after the advance waits
 * for its screening. Prints its numbers (docs/benchmarks.md); run with
 * {@code -Dgroups=benchmark -DexcludedGroups=none -Dtest=RescreenBenchmarkTest}.
 */
@Tag("benchmark")
class RescreenBenchmarkTest {
    private static final int POOL = Integer.getInteger("policylong.benchmark.pool", 10_000);
    private static final Path ROOT = JobFixtures.tempRoot("rescreen-benchmark");

    @RegisterExtension
    static final MiniClusterExtension FLINK = JobFixtures.miniCluster(ROOT, 3, "1 s");

    @TempDir
    Path dir;

    private static long size(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    /** The size of the newest completed checkpoint: its own files and the shared files it refers to. */
    private static long checkpointBytes(Path checkpoints) throws IOException {
        Path job;
        try (Stream<Path> jobs = Files.list(checkpoints)) {
            job = jobs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        Path newest;
        try (Stream<Path> chks = Files.list(job)) {
            newest = chks.filter(p -> p.getFileName().toString().startsWith("chk-"))
                    .filter(p -> Files.exists(p.resolve("_metadata")))
                    .max((a, b) -> Integer.compare(Integer.parseInt(a.getFileName().toString().substring(4)),
                            Integer.parseInt(b.getFileName().toString().substring(4)))).orElseThrow();
        }
        return size(newest) + size(job.resolve("shared")) + size(job.resolve("taskowned"));
    }

    private static void add(Path in, String name, List<Document> documents) throws IOException {
        Path temp = in.resolve("." + name);
        Files.write(temp, documents.stream().map(Document::toJson).toList(), StandardCharsets.UTF_8);
        Files.move(temp, in.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void aVersionAdvanceOverTenThousandStoredDocuments() throws Exception {
        JobFixtures fixtures = JobFixtures.create(Files.createDirectories(dir.resolve("fixtures")));
        List<Document> pool = new ArrayList<>();
        for (Document d : BrownCorpus.read(Corpora.brown())) {
            int n = 0;
            for (int[] r : TextChunks.split(d.text(), 300)) {
                if (pool.size() < POOL) {
                    pool.add(new Document(d.id() + "~" + n++, d.text().substring(r[0], r[1]).strip(), "brown",
                            Map.of()));
                }
            }
        }
        Path in = Files.createDirectories(dir.resolve("in"));
        add(in, "pool.jsonl", pool);
        new CheckpointAnnouncer(dir.resolve("checkpoints"), "benchmark").announce(fixtures.v0(), 0, null);
        String yaml = String.join("\n",
                "input: {documents: " + in + ", watch: 1s}",
                "policy: {checkpoints: " + dir.resolve("checkpoints") + ", watch: 500ms}",
                "retrieval: {index: " + fixtures.index() + ", top-k: 1, max-candidates: 1}",
                "screening: {max-anchors: 1, skip-first: 8, window-tokens: 512, left-context: 64}",
                "assembly: {target-tokens: 4096, min-fill: 0.0, require-positive: false, fill-distractors: false}",
                "rescreen: {documents-per-second: 20}",
                "scoring: {device: cpu, max-delay: 5ms, capacity: 16}",
                "output: {samples: " + dir.resolve("samples") + ", dead-letters: " + dir.resolve("dead") + "}",
                "runtime: {parallelism: 1, checkpoint-interval: 2s, checkpoint-dir: " + dir.resolve("flink") + "}");
        PipelineConfig config = PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "benchmark")
                .withAbsoluteLocations("benchmark");
        long started = System.nanoTime();
        JobClient client = JobRuns.start(StreamExecutionEnvironment.getExecutionEnvironment(), config, null);
        JobFixtures.waitUntilCommitted(0, pool.size(), java.time.Duration.ofMinutes(30));
        double screened = (System.nanoTime() - started) / 1e9;
        Thread.sleep(5000); // a checkpoint after the last commit
        long before = checkpointBytes(dir.resolve("flink"));

        new CheckpointAnnouncer(dir.resolve("checkpoints"), "benchmark").announce(fixtures.v1(), 1, null);
        while (PipelineProgress.latestVersion() < 1) {
            Thread.sleep(50);
        }
        long advanced = System.nanoTime();
        Document fresh = new Document("arrived-after-the-advance", pool.get(0).text() + " A new ending.", "test",
                Map.of());
        add(in, "fresh.jsonl", List.of(fresh));
        long added = System.nanoTime();
        double waited = -1;
        while (waited < 0 && System.nanoTime() - added < 300e9) {
            for (TrainingSample s : SampleChecks.samples(dir.resolve("samples"))) {
                if (s.documentId().equals(fresh.id())) {
                    waited = (System.nanoTime() - added) / 1e9;
                }
            }
            Thread.sleep(200);
        }
        Thread.sleep(4000);
        long during = checkpointBytes(dir.resolve("flink"));
        long rescreened = SampleChecks.samples(dir.resolve("samples")).stream()
                .filter(s -> s.policyVersion() == 1).count() - 1;
        double since = (System.nanoTime() - advanced) / 1e9;
        client.cancel().get();

        long textBytes = pool.stream().mapToLong(d -> d.text().getBytes(StandardCharsets.UTF_8).length).sum();
        System.out.printf(Locale.ROOT, "benchmark: %d stored documents (%.1f MB of text) screened under version 0 "
                + "in %.1f s%n", pool.size(), textBytes / 1e6, screened);
        System.out.printf(Locale.ROOT, "benchmark: checkpoint size %.1f MB before the advance, %.1f MB with the "
                + "re-screens parked (%d of %d re-screened %.0f s after the advance)%n", before / 1e6, during / 1e6,
                rescreened, pool.size(), since);
        System.out.printf(Locale.ROOT, "benchmark: a document arriving just after the advance committed after "
                + "%.1f s (checkpoint interval 2 s, directory watched every 1 s)%n", waited);
    }
}
