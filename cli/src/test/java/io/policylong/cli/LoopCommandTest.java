package io.policylong.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.pipeline.job.JobFixtures;
import io.policylong.pipeline.job.SampleChecks;
import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.records.Document;
import io.policylong.records.PolicyUpdate;
import io.policylong.records.TrainingSample;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code policylong loop} with tiny settings, as users run it (its own process): the trainer continues the initial
 * checkpoint on the job's samples and announces three versions, the job screens every document under each.
 */
class LoopCommandTest {
    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed loop's logs and outputs stay to look at
    Path dir;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void theTrainerAnnouncesVersionsTheJobScreensUnderAndTrainsOnItsSamples() throws Exception {
        JobFixtures fixtures = JobFixtures.create(Files.createDirectories(dir.resolve("fixtures")));
        Path documents = dir.resolve("documents.jsonl");
        Files.write(documents, fixtures.documents().stream().map(Document::toJson).toList());
        Path config = dir.resolve("loop.yaml");
        Files.writeString(config, fixtures.loopYaml(documents, freePort()));
        Path out = dir.resolve("loop");
        Path log = dir.resolve("loop.log");
        Process loop = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                PolicyLong.class.getName(), "loop", "--config", config.toString(), "--out", out.toString(),
                "--versions", "3", "--steps-per-version", "2", "--max-length", "2048", "--lr", "1e-3", "--idle", "5",
                "--held-out-samples", "1", "--progress-every", "3")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = loop.waitFor(6, TimeUnit.MINUTES);
        if (!done) {
            loop.destroyForcibly().waitFor();
        }
        String printed = Files.readString(log);
        assertTrue(done, "the loop finished: " + printed);
        assertEquals(0, loop.exitValue(), printed);

        // Version 0 announced by the loop, 1 to 3 by the trainer, from its own checkpoints.
        Path checkpoints = out.resolve("checkpoints");
        List<Long> versions = new ArrayList<>();
        for (long v = 0; v <= 3; v++) {
            PolicyUpdate update = PolicyDescriptorFiles.read(checkpoints.resolve(PolicyDescriptorFiles.fileName(v)));
            versions.add(update.version());
            if (v > 0) {
                assertEquals("loop", update.run());
                assertEquals(out.resolve("trainer").resolve(String.format("step-%08d", 2 * v)).toUri().toString(),
                        update.uri());
            }
        }
        assertEquals(List.of(0L, 1L, 2L, 3L), versions);
        assertTrue(Files.notExists(checkpoints.resolve(PolicyDescriptorFiles.fileName(4))));

        // Every version screened by the job (the trainer waits for samples of its newest version before it trains
        // on), and every document under the last one (require-positive is off, so each screening gives a sample).
        List<TrainingSample> samples = new ArrayList<>();
        for (String line : SampleChecks.committedLines(out.resolve("samples"))) {
            samples.add(TrainingSample.fromJson(line));
        }
        Set<String> ids = fixtures.documents().stream().map(Document::id).collect(Collectors.toSet());
        for (long v = 0; v <= 3; v++) {
            long version = v;
            assertTrue(samples.stream().anyMatch(s -> s.policyVersion() == version), "samples under version " + v);
        }
        assertEquals(ids, samples.stream().filter(s -> s.policyVersion() == 3).map(TrainingSample::documentId)
                .collect(Collectors.toSet()), "every document under the newest version");

        // The trainer trained on the job's samples and recorded their versions, step by step.
        List<String> steps = Files.readAllLines(out.resolve("trainer/sample_versions.jsonl"));
        assertEquals(6, steps.size(), printed);
        Set<Long> consumed = new TreeSet<>();
        for (String line : steps) {
            JsonNode node = new ObjectMapper().readTree(line);
            node.path("versions").fieldNames().forEachRemaining(f -> consumed.add(Long.parseLong(f)));
        }
        // On-policy: steps 1-2 on version 0's samples, 3-4 on version 1's, 5-6 on version 2's.
        List<String> perStep = new ArrayList<>();
        for (String line : steps) {
            JsonNode node = new ObjectMapper().readTree(line);
            perStep.add(node.path("step").asText() + ":" + String.join(",", (Iterable<String>) () -> node.path(
                    "versions").fieldNames()));
        }
        assertEquals(List.of("1:0", "2:0", "3:1", "4:1", "5:2", "6:2"), perStep);
        assertEquals(Set.of(0L, 1L, 2L), consumed);
        assertTrue(printed.contains("trainer: checkpoint") && printed.contains("announced as policy version 3"),
                printed);

        // The report: one entry per version, its numbers those of the samples, the trainer's steps.
        JsonNode report = new ObjectMapper().readTree(out.resolve("report/report.json").toFile());
        assertEquals(4, report.path("versions").size());
        for (JsonNode v : report.path("versions")) {
            long version = v.path("version").asLong();
            assertEquals(samples.stream().filter(s -> s.policyVersion() == version).count(),
                    v.path("samples").asLong(), "samples of version " + version);
        }
        assertEquals(6, report.path("trainer").path("steps").size());
        for (JsonNode step : report.path("trainer").path("steps")) {
            assertEquals(step.path("step").asLong() % 2 == 0, step.path("held_out_sample_loss").isNumber(),
                    "the held-out sample's loss at every announcement: " + step);
        }
        // The held-out sample's document is never trained on (the trainer holds out the first sample it reads).
        assertTrue(printed.contains("held-out samples "), printed);
        // The job's metrics: every version screened, each hot-swap timed from its announcement.
        JsonNode job = new ObjectMapper().readTree(out.resolve("job-metrics.json").toFile());
        assertEquals(job, report.path("job"), "the report carries the metrics file's numbers");
        assertEquals(4, job.path("versions").size(), job.toString());
        for (JsonNode v : job.path("versions")) {
            long first = v.path("version").asLong() % 3 == 0 ? ids.size() : 1; // 1 and 2 may be overtaken
            assertTrue(v.path("screenings").asLong() >= first, v.toString());
            assertTrue(v.path("swap_seconds").asDouble() > 0, "hot-swap latency of " + v);
        }
        assertTrue(job.path("screenings").asLong() >= 4L * ids.size() && job.path("seconds").asDouble() > 0, job
                .toString());
        // The loop's own progress line.
        assertTrue(printed.matches("(?s).*loop: \\d+m\\d\\ds; job: version \\d, \\d of 6 documents screened under it; "
                + "trainer: step \\d of 6, \\d of 3 versions announced, \\d+ samples trained on.*"), printed);
        assertEquals(0.0, report.path("trainer").path("mean_staleness").asDouble(), 1e-9,
                "on-policy: every row from the newest announced version");
        assertTrue(Files.readString(out.resolve("report/index.html")).contains("data:image/png;base64,"));
    }
}
