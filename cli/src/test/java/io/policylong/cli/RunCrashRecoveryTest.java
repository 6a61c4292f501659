package io.policylong.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.corpus.testing.Corpora;
import io.policylong.pipeline.job.JobFixtures;
import io.policylong.pipeline.job.SampleChecks;
import io.policylong.pipeline.screening.SampleAssembler;
import io.policylong.records.Document;
import io.policylong.records.JsonlDocuments;
import io.policylong.records.TrainingSample;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Exactly-once across a crash of the process users run: {@code policylong run} killed with SIGKILL after some
 * samples are committed, then the same command again; it resumes from the newest retained checkpoint.
 */
class RunCrashRecoveryTest {
    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run's logs, checkpoints and outputs stay to look at
    Path dir;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Process run(Path config, Path log, String... extra) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx1g", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-cp",
                System.getProperty("java.class.path"), PolicyLong.class.getName(), "run", "--config",
                config.toString()));
        command.addAll(List.of(extra));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    @Test
    void aRunKilledMidStreamAndStartedAgainCommitsEverySampleOnce() throws Exception {
        JobFixtures fixtures = JobFixtures.create(Files.createDirectories(dir.resolve("fixtures")));
        StringWriter err = new StringWriter();
        assertEquals(0, new CommandLine(new PolicyLong()).setErr(new PrintWriter(err)).execute("corpus", "--out",
                dir.resolve("corpus").toString(), "--brown", Corpora.brown().toString()), err.toString());
        Path screen = dir.resolve("corpus/screen.jsonl");
        List<Document> documents = JsonlDocuments.read(screen, problem -> { });
        Path config = dir.resolve("job.yaml");
        Files.writeString(config, String.join("\n",
                "input: {documents: " + screen + ", max-document-tokens: 4000}",
                "policy: {checkpoints: " + dir.resolve("checkpoints") + ", initial-checkpoint: " + fixtures.v0() + "}",
                "retrieval: {index: " + fixtures.index() + ", top-k: 4, max-candidates: 4}",
                "screening: {alpha: 0.5, max-anchors: 3, skip-first: 8, window-tokens: 512, left-context: 64}",
                "assembly: {target-tokens: 4096, min-fill: 0.0, require-positive: false}",
                "scoring: {device: cpu, max-delay: 5ms, capacity: 1}",
                "output: {samples: " + dir.resolve("samples") + ", dead-letters: " + dir.resolve("dead") + "}",
                "runtime: {checkpoint-interval: 1s, checkpoint-dir: " + dir.resolve("flink") + ", web-ui-port: "
                        + freePort() + ", summary-interval: 1h}"));

        Process first = run(config, dir.resolve("first.log"));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        int committed = 0;
        while (System.nanoTime() < deadline && first.isAlive()) {
            committed = SampleChecks.committedLines(dir.resolve("samples")).size();
            if (committed >= 3) {
                break;
            }
            Thread.sleep(50);
        }
        first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        assertTrue(committed >= 3 && committed < documents.size(), "killed mid-stream, after " + committed
                + " committed samples:\n" + Files.readString(dir.resolve("first.log")));

        Process second = run(config, dir.resolve("second.log"), "--until-idle", "3");
        assertTrue(second.waitFor(4, TimeUnit.MINUTES), "the second run stops once idle");
        String printed = Files.readString(dir.resolve("second.log"));
        assertEquals(0, second.exitValue(), printed);
        assertTrue(printed.contains("run: resuming from "), printed);

        List<TrainingSample> samples = SampleChecks.samples(dir.resolve("samples"));
        Set<String> ids = samples.stream().map(TrainingSample::sampleId).collect(Collectors.toSet());
        Set<String> undisturbed = documents.stream().map(d -> SampleAssembler.sampleId(d.id(), 0, d.text()))
                .collect(Collectors.toSet());
        assertEquals(samples.size(), ids.size(), "nothing committed twice");
        assertEquals(undisturbed, ids, "every document's sample, as an undisturbed run writes them (run directory " + dir + "); dead letters: "
                + SampleChecks.committedLines(dir.resolve("dead")) + "\nsecond run:\n" + printed);
    }
}
