package io.policylong.pipeline.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.corpus.BrownCorpus;
import io.policylong.corpus.testing.Corpora;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.operators.PipelineProgress;
import io.policylong.pipeline.retrieval.ChunkIndexBuilder;
import io.policylong.policy.CheckpointAnnouncer;
import io.policylong.records.Document;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import io.policylong.text.TextChunks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job at the method's default thresholds (anchors above mean + 2.0 std, positive when dI > 0.4, hard
 * negative when dI <= 0.0) on the bundled model, which copies from its context: it finds positives and hard
 * negatives, and each one's H, H' and dI recompute.
 */
class DefaultThresholdsJobTest {
    private static final Path ROOT = JobFixtures.tempRoot("default-thresholds-test");

    @RegisterExtension
    static final MiniClusterExtension FLINK = JobFixtures.miniCluster(ROOT, 3, "500 ms");

    @TempDir
    Path dir;

    @Test
    void positivesAndHardNegativesAreFoundAndRecompute() throws Exception {
        Path model = Path.of(System.getProperty("policylong.root", "..")).resolve("models/byte-lm-4m")
                .toAbsolutePath().normalize();
        List<Document> brown = BrownCorpus.read(Corpora.brown());
        // The retrieval corpus holds the full texts; the documents are pieces of some of them, under other ids,
        // so their continuations can be retrieved as context (text the model can copy from) next to unrelated
        // chunks.
        Path index = dir.resolve("index");
        try (ChunkIndexBuilder builder = new ChunkIndexBuilder(index, 1000,
                t -> t.getBytes(StandardCharsets.UTF_8).length)) {
            for (Document d : brown.subList(0, 40)) {
                builder.add(d);
            }
        }
        List<String> lines = new ArrayList<>();
        for (Document d : brown.subList(0, 4)) {
            int[] piece = TextChunks.split(d.text(), 600).get(1);
            lines.add(new Document("piece-of-" + d.id(), d.text().substring(piece[0], piece[1]).strip(), "brown",
                    Map.of()).toJson());
        }
        Path documents = dir.resolve("documents.jsonl");
        Files.write(documents, lines, StandardCharsets.UTF_8);
        new CheckpointAnnouncer(dir.resolve("checkpoints"), "test").announce(model, 0, null);
        String yaml = String.join("\n",
                "input: {documents: " + documents + "}",
                "policy: {checkpoints: " + dir.resolve("checkpoints") + ", watch: 200ms}",
                "retrieval: {index: " + index + ", top-k: 8, max-candidates: 8}",
                "screening: {max-anchors: 4, skip-first: 32, window-tokens: 1024, left-context: 256}",
                "assembly: {target-tokens: 4096}",
                "scoring: {device: cpu}",
                "output: {samples: " + dir.resolve("samples") + ", dead-letters: " + dir.resolve("dead") + "}",
                "runtime: {parallelism: 1, checkpoint-interval: 1s, checkpoint-dir: " + dir.resolve("flink") + "}");
        PipelineConfig config = PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "test")
                .withAbsoluteLocations("test");
        assertEquals(0.4f, config.screening().epsilon());
        assertEquals(0.0f, config.screening().epsilonNeg());
        assertEquals(2.0, config.screening().alpha());

        JobClient client = JobRuns.start(StreamExecutionEnvironment.getExecutionEnvironment(), config, null);
        JobFixtures.waitUntilCommitted(0, lines.size());
        PipelineProgress.waitUntilIdle(client, Duration.ofSeconds(1));
        client.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL)
                .get();

        List<TrainingSample> samples = SampleChecks.samples(dir.resolve("samples"));
        long positives = samples.stream().flatMap(s -> s.segments().stream())
                .filter(s -> s.role() == SampleSegment.Role.POSITIVE).count();
        long negatives = samples.stream().flatMap(s -> s.segments().stream())
                .filter(s -> s.role() == SampleSegment.Role.HARD_NEGATIVE).count();
        assertTrue(positives > 0, "positives found at the default thresholds: " + samples.size() + " samples");
        assertTrue(negatives > 0, "hard negatives found at the default thresholds");
        for (TrainingSample sample : samples) {
            for (SampleSegment s : sample.segments()) {
                if (s.role() == SampleSegment.Role.POSITIVE) {
                    assertTrue(s.gains().stream().anyMatch(g -> g.gain() > 0.4f), "a positive beats epsilon");
                } else if (s.role() == SampleSegment.Role.HARD_NEGATIVE) {
                    assertTrue(s.gains().stream().allMatch(g -> g.gain() <= 0f), "a hard negative never helps");
                }
            }
        }
        int checked = SampleChecks.assertRecomputable(samples, version -> model, Integer.MAX_VALUE);
        assertTrue(checked >= positives + negatives, "every context's gains recompute: " + checked);
    }
}
