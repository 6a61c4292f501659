package io.policylong.pipeline.job;

import io.policylong.corpus.BrownCorpus;
import io.policylong.text.TextChunks;
import io.policylong.records.Document;
import io.policylong.model.checkpoint.RandomCheckpoint;
import io.policylong.model.config.Architecture;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.tokenizer.ByteLevelTokenizerJson;
import io.policylong.pipeline.retrieval.ChunkIndexBuilder;
import io.policylong.pipeline.operators.PipelineProgress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/**
 * What the job tests run on: two real checkpoints with different weights (tiny random Qwen2 models with the
 * byte-level tokenizer, F32 and BF16), a real Lucene index of 60 Brown texts, and six documents cut from
 * six other Brown texts.
 *
 * @param v0 the first checkpoint
 * @param v1 the second checkpoint
 * @param index the retrieval index
 * @param documents the documents to screen
 */
public record JobFixtures(Path v0, Path v1, Path index, List<Document> documents) {
    public static final ModelConfig TINY = new ModelConfig(Architecture.QWEN2, ByteLevelTokenizerJson.VOCAB_SIZE, 32, 64, 2,
            4, 2, 8, 1e-6, 10000.0, true, true, false, false, 4096, new RopeScaling.None());

    public static JobFixtures create(Path dir) throws Exception {
        Path tokenizer = dir.resolve("tokenizer.json");
        ByteLevelTokenizerJson.write(tokenizer);
        Path v0 = dir.resolve("v0");
        Path v1 = dir.resolve("v1");
        RandomCheckpoint.write(v0, TINY, RandomCheckpoint.tensors(TINY, 11, 1.0), SafetensorsDType.F32, 0, tokenizer);
        RandomCheckpoint.write(v1, TINY, RandomCheckpoint.tensors(TINY, 12, 1.0), SafetensorsDType.BF16, 0, tokenizer);
        List<Document> brown = BrownCorpus.read(io.policylong.corpus.testing.Corpora.brown());
        Path index = dir.resolve("index");
        try (ChunkIndexBuilder builder = new ChunkIndexBuilder(index, 600,
                t -> t.getBytes(StandardCharsets.UTF_8).length)) {
            for (Document d : brown.subList(0, 60)) {
                builder.add(d);
            }
        }
        List<Document> documents = new ArrayList<>();
        for (Document d : brown.subList(60, 66)) {
            int[] first = TextChunks.split(d.text(), 500).get(0);
            documents.add(new Document(d.id() + "~0", d.text().substring(first[0], first[1]).strip(), "brown",
                    Map.of()));
        }
        return new JobFixtures(v0, v1, index, List.copyOf(documents));
    }

    /** A fresh directory for a test class's cluster state (created before any {@code @TempDir} exists). */
    public static Path tempRoot(String prefix) {
        try {
            return java.nio.file.Files.createTempDirectory(prefix);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A one-TaskManager, two-slot mini cluster on RocksDB with incremental checkpoints under {@code root}, and
     * a fixed-delay restart strategy.
     */
    public static MiniClusterExtension miniCluster(Path root, int restartAttempts, String restartDelay) {
        Configuration conf = new Configuration();
        conf.setString("state.backend.type", "rocksdb");
        conf.setString("execution.checkpointing.incremental", "true");
        conf.setString("execution.checkpointing.dir", root.resolve("flink-checkpoints").toUri().toString());
        conf.setString("restart-strategy.type", "fixed-delay");
        conf.setString("restart-strategy.fixed-delay.attempts", String.valueOf(restartAttempts));
        conf.setString("restart-strategy.fixed-delay.delay", restartDelay);
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(1)
                .setNumberSlotsPerTaskManager(2)
                .setConfiguration(conf)
                .build());
    }

    /** Waits until {@code documents} documents of this run are committed under {@code version}. */
    public static void waitUntilCommitted(long version, int documents) throws InterruptedException {
        waitUntilCommitted(version, documents, Duration.ofMinutes(4));
    }

    /** As {@link #waitUntilCommitted(long, int)}, failing after {@code timeout}. */
    public static void waitUntilCommitted(long version, int documents, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            PipelineProgress.Snapshot s = PipelineProgress.snapshot();
            if (s.latestVersion() == version && s.upToDate() == documents) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + documents + " documents under version " + version
                        + ": " + s);
            }
            Thread.sleep(100);
        }
    }

    /** The settings both job tests share (small anchors and candidate counts, thresholds that classify). */
    public static String commonYaml() {
        return String.join("\n",
                "screening: {alpha: 0.5, max-anchors: 3, skip-first: 8, window-tokens: 256, left-context: 64,",
                "            epsilon: 0.99, epsilon-neg: 0.98}",
                "assembly: {target-tokens: 4096, min-fill: 0.0, require-positive: false}",
                "rescreen: {documents-per-second: 50}",
                "scoring: {device: cpu, max-delay: 5ms, capacity: 4}");
    }

    /** A configuration for `loop` (and `experiment`) on these fixtures: their documents file, v0, the index. */
    public String loopYaml(Path documentsFile, int webUiPort) {
        return String.join("\n",
                "input: {documents: " + documentsFile + ", max-document-tokens: 4000}",
                "policy: {initial-checkpoint: " + v0 + "}",
                "retrieval: {index: " + index + ", top-k: 4, max-candidates: 4}",
                commonYaml(),
                "runtime: {checkpoint-interval: 1s, web-ui-port: " + webUiPort + ", summary-interval: 1h}");
    }
}
