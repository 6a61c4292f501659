package io.policylong.system;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.pipeline.job.SampleChecks;
import io.policylong.policy.CheckpointAnnouncer;
import io.policylong.records.PolicyUpdate;
import io.policylong.records.TrainingSample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The 40-document job of the embedded default on a standalone cluster of two TaskManager processes (one slot
 * and one engine thread each, parallelism 2): throughput in model tokens, and the time from a version's
 * announcement to its first committed sample. Prints its numbers (see {@code scripts/measure-cluster.sh} and
 * {@code docs/benchmarks.md}); run with {@code -Dgroups=benchmark -DexcludedGroups=none}.
 */
@Tag("benchmark")
class ClusterJobBenchmarkTest {
    private static final Duration WAIT = Duration.ofMinutes(20);

    private static Path property(String name, String fallback) {
        return Path.of(System.getProperty(name, FlinkProcessCluster.projectRoot().resolve(fallback).toString()))
                .toAbsolutePath().normalize();
    }

    @Test
    void fortyDocumentsUnderTwoVersionsOnTwoTaskManagers() throws Exception {
        Path documents = property("policylong.benchmark.documents", "data/corpus/screen.jsonl");
        Path index = property("policylong.benchmark.index", "data/index");
        Path v0 = property("policylong.benchmark.v0", "models/byte-lm-4m");
        Path v1 = property("policylong.benchmark.v1", "out/measure-cluster/v1");
        Path work = property("policylong.benchmark.work", "out/measure-cluster/cluster");
        int expected = (int) Files.lines(documents).filter(l -> !l.isBlank()).count() * 2;
        if (Files.exists(work)) {
            // A fresh run: the announcements, outputs and state of an earlier one would change the numbers.
            try (var paths = Files.walk(work)) {
                for (Path p : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                    Files.delete(p);
                }
            }
        }

        // The embedded default's settings, with every location absolute and parallelism 2.
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        ObjectNode config = (ObjectNode) yaml.readTree(FlinkProcessCluster.projectRoot()
                .resolve("conf/local.yaml").toFile());
        ((ObjectNode) config.get("input")).put("documents", documents.toString());
        ObjectNode policy = (ObjectNode) config.get("policy");
        policy.put("checkpoints", work.resolve("checkpoints").toString());
        policy.remove("initial-checkpoint");
        ObjectNode retrieval = (ObjectNode) config.get("retrieval");
        retrieval.remove("corpus");
        retrieval.put("index", index.toString());
        ((ObjectNode) config.get("scoring")).put("device", "cpu");
        ((ObjectNode) config.get("output")).put("samples", work.resolve("samples").toString())
                .put("dead-letters", work.resolve("dead-letters").toString());
        ((ObjectNode) config.get("runtime")).put("parallelism", 2)
                .put("checkpoint-dir", work.resolve("flink").toUri().toString())
                .put("cache-dir", work.resolve("cache").toString());
        Files.createDirectories(work);
        Path configFile = work.resolve("job.yaml");
        yaml.writeValue(configFile.toFile(), config);

        try (FlinkProcessCluster cluster = FlinkProcessCluster.start(work.resolve("cluster"), 2, 1, List.of(),
                Map.of("env.java.opts.taskmanager", "-Dai.djl.offline=true -Dai.djl.pytorch.num_interop_threads=1 "
                        + "-Dai.djl.pytorch.num_threads=" + System.getProperty("policylong.benchmark.threads", "1")),
                false)) {
            FlinkRest rest = cluster.rest();
            String jarId = rest.uploadJar(FlinkProcessCluster.jobJar());
            PolicyUpdate first = new CheckpointAnnouncer(work.resolve("checkpoints"), "benchmark").announce(v0, 0,
                    null);
            long submitted = System.nanoTime();
            String job = rest.runJar(jarId, List.of("--config", configFile.toString()), null, null);
            FlinkRest.await(() -> rest.allTasksRunning(job), running -> running, WAIT, "the job running");
            long runningAt = System.nanoTime();
            double running = (runningAt - submitted) / 1e9;
            FlinkRest.await(() -> SampleChecks.samples(work.resolve("samples")), s -> !s.isEmpty(), WAIT,
                    "the first samples");
            Instant firstCommitted = Instant.now();
            PolicyUpdate second = new CheckpointAnnouncer(work.resolve("checkpoints"), "benchmark").announce(v1, 1,
                    null);
            List<TrainingSample> underV1 = FlinkRest.await(() -> SampleChecks.samples(work.resolve("samples")),
                    s -> s.stream().anyMatch(x -> x.policyVersion() == 1), WAIT, "a sample under version 1");
            Instant firstV1 = Instant.now();
            // Polled every 2 s: the metrics calls cost the JobManager CPU that the TaskManagers share.
            FlinkRest.await(() -> rest.metricSum(job, "samplesWritten") + rest.metricSum(job, "samplesDropped"),
                    n -> n >= expected, WAIT, Duration.ofSeconds(2), expected + " screenings");
            // Like the embedded runner's figure, from the moment documents can enter to the last screening.
            double seconds = (System.nanoTime() - runningAt) / 1e9;
            long entropy = rest.metricSum(job, "entropyForwardTokens");
            long documentTokens = rest.metricSum(job, "entropyTokensScored");
            long verification = rest.metricSum(job, "verificationTokensScored");
            long positives = rest.metricSum(job, "positives");
            long negatives = rest.metricSum(job, "hardNegatives");
            long written = rest.metricSum(job, "samplesWritten");
            long model = entropy + verification;
            System.out.printf(Locale.ROOT, "benchmark: cluster of 2 TaskManagers (%s engine thread(s) each), "
                    + "parallelism 2: %d screenings in "
                    + "%.1f s once running (tasks running %.1f s after submission)%n",
                    System.getProperty("policylong.benchmark.threads", "1"), expected, seconds, running);
            System.out.printf(Locale.ROOT, "benchmark: %d document tokens scored (%.0f/s); %d tokens through the "
                    + "model (%d entropy windows, %d verification): %.0f model tokens/s%n", documentTokens,
                    documentTokens / seconds, model, entropy, verification, model / seconds);
            System.out.printf(Locale.ROOT, "benchmark: %d positives, %d hard negatives, %d samples written%s%n",
                    positives, negatives, written, positives == 0 ? "" : String.format(Locale.ROOT,
                            " (%d model tokens per positive)", model / positives));
            System.out.printf(Locale.ROOT, "benchmark: version 0 announced -> first sample committed %.1f s "
                    + "(start-up included); version 1 announced -> first sample under it committed %.1f s%n",
                    Duration.between(first.time(), firstCommitted).toMillis() / 1000.0,
                    Duration.between(second.time(), firstV1).toMillis() / 1000.0);
            System.out.printf("benchmark: samples under version 1 seen: %d%n",
                    underV1.stream().filter(s -> s.policyVersion() == 1).count());
            rest.cancel(job);
        }
    }
}
