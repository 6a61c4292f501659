package io.policylong.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.corpus.testing.Corpora;
import io.policylong.pipeline.job.JobFixtures;
import io.policylong.pipeline.job.SampleChecks;
import io.policylong.pipeline.screening.SampleAssembler;
import io.policylong.records.Document;
import io.policylong.records.JsonlDocuments;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The job with {@code scoring.backend: remote} against two {@code policylong serve} processes, one of them killed
 * with SIGKILL mid-stream and started again: every document is screened, every sample committed once, and the
 * samples are those of the same job scoring in-process.
 */
class RemoteScoringRunTest {
    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run's logs and outputs stay to look at
    Path dir;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static Process start(Path log, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx1g", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-cp",
                System.getProperty("java.class.path"), PolicyLong.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(
                log.toFile())).start();
    }

    private static void awaitReady(int port, Process server, Path log) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline && server.isAlive()) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/health/live"))
                        .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("server on " + port + " did not come up:\n" + Files.readString(log));
    }

    private String config(String name, JobFixtures fixtures, Path screen, String scoring) throws Exception {
        Path out = Files.createDirectories(dir.resolve(name));
        Path config = out.resolve("job.yaml");
        Files.writeString(config, String.join("\n",
                "input: {documents: " + screen + ", max-document-tokens: 4000}",
                "policy: {checkpoints: " + out.resolve("checkpoints") + ", initial-checkpoint: " + fixtures.v0() + "}",
                "retrieval: {index: " + fixtures.index() + ", top-k: 4, max-candidates: 4}",
                "screening: {alpha: 0.5, max-anchors: 3, skip-first: 8, window-tokens: 512, left-context: 64}",
                "assembly: {target-tokens: 4096, min-fill: 0.0, require-positive: false}",
                "scoring: {" + scoring + "}",
                "output: {samples: " + out.resolve("samples") + ", dead-letters: " + out.resolve("dead") + "}",
                "runtime: {checkpoint-interval: 1s, checkpoint-dir: " + out.resolve("flink") + ", web-ui-port: "
                        + freePort() + ", summary-interval: 1h}"));
        return config.toString();
    }

    @Test
    void twoServersOneKilledMidStreamScreenEverythingOnceAsInProcessScoringDoes() throws Exception {
        JobFixtures fixtures = JobFixtures.create(Files.createDirectories(dir.resolve("fixtures")));
        StringWriter err = new StringWriter();
        assertEquals(0, new CommandLine(new PolicyLong()).setErr(new PrintWriter(err)).execute("corpus", "--out",
                dir.resolve("corpus").toString(), "--brown", Corpora.brown().toString()), err.toString());
        Path screen = dir.resolve("corpus/screen.jsonl");
        List<Document> documents = JsonlDocuments.read(screen, problem -> { });

        int a = freePort();
        int b = freePort();
        Path logA = dir.resolve("server-a.log");
        Path logB = dir.resolve("server-b.log");
        // A serves the checkpoint from the start; B loads it when the job's client first asks.
        String[] serveA = {"serve", "--checkpoint", fixtures.v0().toString(), "--version", "0", "--port",
            String.valueOf(a), "--device", "cpu", "--max-delay-ms", "5"};
        Process serverA = start(logA, serveA);
        Process serverB = start(logB, "serve", "--policies", dir.resolve("remote/checkpoints").toString(), "--port",
                String.valueOf(b), "--device", "cpu", "--max-delay-ms", "5");
        Process job = null;
        try {
            awaitReady(a, serverA, logA);
            awaitReady(b, serverB, logB);
            String remote = config("remote", fixtures, screen, "backend: remote, endpoints: ['http://127.0.0.1:" + a
                    + "', 'http://127.0.0.1:" + b + "'], retry-delay: 200ms, capacity: 2");
            Path jobLog = dir.resolve("remote.log");
            job = start(jobLog, "run", "--config", remote, "--until-idle", "3");
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            int committed = 0;
            while (System.nanoTime() < deadline && job.isAlive()) {
                committed = SampleChecks.committedLines(dir.resolve("remote/samples")).size();
                if (committed >= 3) {
                    break;
                }
                Thread.sleep(50);
            }
            serverA.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            assertTrue(committed >= 3 && committed < documents.size(), "server A killed mid-stream, after "
                    + committed + " committed samples:\n" + Files.readString(jobLog));
            Thread.sleep(3000);
            serverA = start(logA, serveA);
            assertTrue(job.waitFor(5, TimeUnit.MINUTES), "the job stops once idle:\n" + Files.readString(jobLog));
            assertEquals(0, job.exitValue(), Files.readString(jobLog));
        } finally {
            if (job != null) {
                job.destroyForcibly();
            }
            serverA.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            serverB.destroy();
            serverB.waitFor(60, TimeUnit.SECONDS);
        }
        assertTrue(Files.readString(logB).contains("serve: stopping"), "SIGTERM drains: " + Files.readString(logB));

        List<TrainingSample> samples = SampleChecks.samples(dir.resolve("remote/samples"));
        Set<String> ids = samples.stream().map(TrainingSample::sampleId).collect(Collectors.toSet());
        Set<String> expected = documents.stream().map(d -> SampleAssembler.sampleId(d.id(), 0, d.text()))
                .collect(Collectors.toSet());
        assertEquals(samples.size(), ids.size(), "nothing committed twice");
        assertEquals(expected, ids, "every document screened; dead letters: "
                + SampleChecks.committedLines(dir.resolve("remote/dead")));

        // The same job scoring in-process writes the same samples.
        String inProcess = config("in-process", fixtures, screen, "device: cpu, max-delay: 5ms, capacity: 2");
        Path inProcessLog = dir.resolve("in-process.log");
        Process reference = start(inProcessLog, "run", "--config", inProcess, "--until-idle", "3");
        assertTrue(reference.waitFor(5, TimeUnit.MINUTES), Files.readString(inProcessLog));
        assertEquals(0, reference.exitValue(), Files.readString(inProcessLog));
        Map<String, TrainingSample> byId = SampleChecks.samples(dir.resolve("in-process/samples")).stream()
                .collect(Collectors.toMap(TrainingSample::sampleId, Function.identity()));
        assertEquals(ids, byId.keySet());
        for (TrainingSample s : samples) {
            TrainingSample r = byId.get(s.sampleId());
            assertEquals(roles(r), roles(s), "the same contexts in the same roles: " + s.sampleId());
            assertEquals(r.anchors().stream().map(x -> x.position()).toList(),
                    s.anchors().stream().map(x -> x.position()).toList(), "the same anchors: " + s.sampleId());
            for (int i = 0; i < r.anchors().size(); i++) {
                assertEquals(r.anchors().get(i).entropy(), s.anchors().get(i).entropy(), 1e-3, s.sampleId());
            }
        }
    }

    private static List<String> roles(TrainingSample sample) {
        return sample.segments().stream().map(s -> s.role() + ":" + s.sourceId()).sorted().toList();
    }
}
