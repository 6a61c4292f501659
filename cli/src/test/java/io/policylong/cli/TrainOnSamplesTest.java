package io.policylong.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.connectors.kafka.testutils.EmbeddedKafka;
import io.policylong.policy.KafkaPublisher;
import io.policylong.records.Anchor;
import io.policylong.records.SampleLayout;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import io.policylong.trainer.TrainerState;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code train --samples}: the trainer as a consumer of the job's samples directory, on a tiny byte-level model.
 * Every sample has its own policy version, so the versions each step trained on show which samples it used.
 */
class TrainOnSamplesTest {
    @TempDir
    Path dir;

    private static final String[] TEXTS = {"The quick brown fox jumps over the lazy dog. ",
        "Pack my box with five dozen liquor jugs. ", "How vexingly quick daft zebras jump! "};

    private static TrainingSample sample(int version) {
        String context = TEXTS[version % 3].repeat(2);
        String document = TEXTS[(version + 1) % 3].repeat(3) + "version " + version;
        List<SampleSegment> segments = List.of(
                new SampleSegment(SampleSegment.Role.POSITIVE, "c" + version, context, context.length(), List.of()),
                new SampleSegment(SampleSegment.Role.DOCUMENT, "d" + version, document, document.length(), List.of()));
        return new TrainingSample("s" + version, "d" + version, version, SampleLayout.SHUFFLE, 0, "\n\n", segments,
                List.of(new Anchor(10, 2f, 0)), null);
    }

    /** The byte-level row length of a sample: context, separator, document. */
    private static int length(int version) {
        TrainingSample s = sample(version);
        return s.segments().get(0).text().length() + 2 + s.segments().get(1).text().length();
    }

    /** A part file as the job's sink writes it: hidden while in progress. */
    private static Path inProgress(Path samples, String name, List<String> lines) throws Exception {
        Files.createDirectories(samples);
        return Files.write(samples.resolve("." + name + ".inprogress.5e1c"), lines, StandardCharsets.UTF_8);
    }

    private static void commit(Path hidden, String name) throws Exception {
        Files.move(hidden, hidden.resolveSibling(name), StandardCopyOption.ATOMIC_MOVE);
    }

    private static List<String> json(int... versions) {
        List<String> lines = new ArrayList<>();
        for (int v : versions) {
            lines.add(sample(v).toJson());
        }
        return lines;
    }

    private String train(int expectedExit, String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new TrainCommand());
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        assertEquals(expectedExit, exit, err.toString());
        return err.toString();
    }

    private String[] args(Path samples, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("--samples", samples.toString(), "--out", out.toString(),
                "--hidden", "32", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--intermediate", "64",
                "--max-length", "512", "--batch-rows", "1", "--warmup", "2", "--lr", "1e-2", "--min-lr", "1e-3",
                "--log-every", "1", "--save-every", "2", "--seed", "3", "--device", "cpu", "--samples-wait", "2"));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    /** The versions of the rows each logged step trained on, in step order. */
    private static List<String> versionsPerStep(Path out) throws Exception {
        List<String> steps = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("sample_versions.jsonl"))) {
            JsonNode node = new ObjectMapper().readTree(line);
            steps.add(node.path("step").asText() + ":" + node.path("versions").fieldNames().next());
        }
        return steps;
    }

    @Test
    void committedSamplesAreTrainedOnOncePerRowAtFullLengthAcrossARestart() throws Exception {
        Path samples = dir.resolve("samples");
        Path a = inProgress(samples, "samples-a-0.jsonl", new ArrayList<>(json(0, 1)));
        Files.write(a, List.of("{not a sample"), java.nio.file.StandardOpenOption.APPEND);
        Files.write(a, json(2, 3), java.nio.file.StandardOpenOption.APPEND);
        commit(a, "samples-a-0.jsonl");
        Path pending = inProgress(samples, "samples-b-0.jsonl", json(4, 5));
        Path out = dir.resolve("run");

        String printed = train(0, args(samples, out, "--steps", "4"));
        assertTrue(printed.contains("samples: skipped samples-a-0.jsonl:3"), printed);
        TrainerState four = TrainerState.read(out.resolve("step-00000004"));
        assertEquals(length(0) + length(1) + length(2) + length(3), four.tokens(), "every sample at full length");
        assertEquals(5, four.source().path("samples_position").path("samples-a-0.jsonl").asLong());
        assertEquals(4, four.source().path("fresh_samples").asLong());
        assertEquals(List.of("1:0", "2:1", "3:2", "4:3"), versionsPerStep(out), "the in-progress file is not read");

        // The job commits the pending file and another; the trainer goes on from its checkpoint.
        commit(pending, "samples-b-0.jsonl");
        Path c = inProgress(samples, "samples-c-0.jsonl", json(6, 7));
        commit(c, "samples-c-0.jsonl");
        train(0, args(samples, out, "--from", out.resolve("step-00000004").toString(), "--steps", "8"));
        assertEquals(List.of("1:0", "2:1", "3:2", "4:3", "5:4", "6:5", "7:6", "8:7"), versionsPerStep(out),
                "each sample once, none skipped");
        TrainerState eight = TrainerState.read(out.resolve("step-00000008"));
        assertEquals(four.tokens() + length(4) + length(5) + length(6) + length(7), eight.tokens());

        // Nothing new: the trainer waits --samples-wait, then stops without a step it has no data for.
        String waited = train(0, args(samples, out, "--from", out.resolve("step-00000008").toString(), "--steps",
                "12"));
        assertTrue(waited.contains("stopping before step 9: no new sample committed"), waited);
        assertTrue(Files.notExists(out.resolve("step-00000009")));
    }

    @Test
    void aTokenBudgetStopsAtTheFirstStepThatReachesItWithACheckpoint() throws Exception {
        Path samples = dir.resolve("samples");
        commit(inProgress(samples, "samples-a-0.jsonl", json(0, 1, 2, 3, 4)), "samples-a-0.jsonl");
        Path out = dir.resolve("budget");
        long budget = length(0) + length(1) + 1;
        String printed = train(0, args(samples, out, "--steps", "5", "--token-budget",
                String.valueOf(budget)));
        assertTrue(printed.contains("token budget of " + budget + " reached at step 3"), printed);
        TrainerState three = TrainerState.read(out.resolve("step-00000003"));
        assertEquals(length(0) + length(1) + length(2), three.tokens());
        assertTrue(Files.notExists(out.resolve("step-00000004")));
    }

    @Test
    void heldOutSamplesAreEvaluatedAtEveryCheckpointAndNeverTrainedOnAcrossARestart() throws Exception {
        Path samples = dir.resolve("samples");
        commit(inProgress(samples, "samples-a-0.jsonl", json(0, 1, 2, 3, 4)), "samples-a-0.jsonl");
        Path out = dir.resolve("run");
        String printed = train(0, args(samples, out, "--steps", "2", "--held-out-samples", "1"));
        assertTrue(printed.contains("held-out samples "), printed);
        train(0, args(samples, out, "--from", out.resolve("step-00000002").toString(), "--steps", "4",
                "--held-out-samples", "1"));
        assertEquals(List.of("1:1", "2:2", "3:3", "4:4"), versionsPerStep(out), "sample 0 is held out");
        List<Double> heldOut = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("train_log.jsonl"))) {
            JsonNode node = new ObjectMapper().readTree(line);
            heldOut.add(node.has("held_out_sample_loss") ? node.path("held_out_sample_loss").asDouble() : null);
        }
        assertEquals(4, heldOut.size());
        assertEquals(null, heldOut.get(0), "evaluated at checkpoints only");
        assertEquals(null, heldOut.get(2));
        assertTrue(heldOut.get(1) > 0 && heldOut.get(3) > 0, heldOut.toString());
        assertTrue(heldOut.get(3) != heldOut.get(1).doubleValue(), "the same held-out sample, a model trained further");
        TrainerState four = TrainerState.read(out.resolve("step-00000004"));
        assertEquals(sample(0).toJson(), four.source().path("held_out_samples").get(0).asText());
    }

    @Test
    void committedRecordsOfTheSamplesTopicAreTrainedOnOnceAcrossARestart() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String topic = "policylong.samples";
            kafka.createTopic(topic, 2);
            Path out = dir.resolve("topic-run");
            try (KafkaPublisher publisher = new KafkaPublisher(kafka.bootstrapServers(), topic, Map.of())) {
                // A broken record ahead of sample 0 in its partition (same key): read before sample 0 is.
                publisher.sendAndWait("d0", "{not a sample");
                for (int v = 0; v < 4; v++) {
                    publisher.sendAndWait("d" + v, sample(v).toJson());
                }
            }
            String[] common = {"--samples-topic", topic, "--kafka", kafka.bootstrapServers(), "--out", out.toString(),
                "--hidden", "32", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--intermediate", "64",
                "--max-length", "512", "--batch-rows", "1", "--warmup", "2", "--log-every", "1", "--save-every", "2",
                "--device", "cpu", "--samples-wait", "5"};
            List<String> first = new ArrayList<>(List.of(common));
            first.addAll(List.of("--steps", "4"));
            String printed = train(0, first.toArray(new String[0]));
            try (KafkaPublisher publisher = new KafkaPublisher(kafka.bootstrapServers(), topic, Map.of())) {
                for (int v = 4; v < 6; v++) {
                    publisher.sendAndWait("d" + v, sample(v).toJson());
                }
            }
            List<String> second = new ArrayList<>(List.of(common));
            second.addAll(List.of("--from", out.resolve("step-00000004").toString(), "--steps", "6"));
            printed += train(0, second.toArray(new String[0]));
            assertTrue(printed.contains("samples: skipped " + topic + "/"), printed);
            // Partitions interleave, so compare as sets: every sample exactly once over both runs.
            List<String> versions = versionsPerStep(out).stream().map(s -> s.substring(s.indexOf(':') + 1)).sorted()
                    .toList();
            assertEquals(List.of("0", "1", "2", "3", "4", "5"), versions);
            TrainerState six = TrainerState.read(out.resolve("step-00000006"));
            long offsets = 0;
            for (var e : (Iterable<Map.Entry<String, JsonNode>>) () -> six.source().path("samples_position").fields()) {
                assertTrue(e.getKey().startsWith(topic + "/"), e.getKey());
                offsets += e.getValue().asLong();
            }
            assertEquals(7, offsets, "the next offsets of both partitions: 7 records read");
        }
    }

    @Test
    void checkpointsOfEveryNthStepAreAnnouncedOnThePoliciesTopicAfterTheNewestVersion() throws Exception {
        Path samples = dir.resolve("samples");
        commit(inProgress(samples, "samples-a-0.jsonl", json(0, 1, 2, 3, 4, 5)), "samples-a-0.jsonl");
        Path out = dir.resolve("announcing");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String policies = "policylong.policies";
            kafka.createTopic(policies, 1);
            // The job's version 0 (the checkpoint training starts from), already on the topic.
            try (KafkaPublisher publisher = new KafkaPublisher(kafka.bootstrapServers(), policies, Map.of())) {
                publisher.sendAndWait("job", new io.policylong.records.PolicyUpdate(0, "file:///models/v0", null,
                        null, java.time.Instant.now(), "job").toJson());
                publisher.sendAndWait("job", "{not an announcement");
            }
            // Checkpoints every 2 steps (and at 3, to be announced): 2, 3, 4, 6; announced: 3 and 6.
            String printed = train(0, args(samples, out, "--steps", "6", "--announce-every", "3", "--kafka", kafka.bootstrapServers(), "--announce-topic", policies, "--run", "loop"));
            List<io.policylong.records.PolicyUpdate> updates = new ArrayList<>();
            for (var r : kafka.readCommitted(policies, java.time.Duration.ofMillis(500))) {
                try {
                    updates.add(io.policylong.records.PolicyUpdate.fromJson(r.value()));
                } catch (io.policylong.records.InvalidRecordException e) {
                    // the broken record
                }
            }
            assertEquals(List.of(0L, 1L, 2L), updates.stream().map(io.policylong.records.PolicyUpdate::version)
                    .toList(), printed);
            for (int i = 1; i <= 2; i++) {
                Path checkpoint = out.resolve(String.format("step-%08d", 3 * i));
                assertEquals(checkpoint.toUri().toString(), updates.get(i).uri());
                assertEquals(io.policylong.policy.CheckpointDigest.weightsSha256(checkpoint), updates.get(i).sha256());
                assertEquals(3L * i, updates.get(i).step());
                assertEquals(i, TrainerState.read(checkpoint).version());
            }
            assertTrue(printed.contains("announced as policy version 2 in topic " + policies), printed);
            assertEquals(-1, TrainerState.read(out.resolve("step-00000004")).version(), "not announced");
        }
    }

    @Test
    void sampleRowsAreNeverRewrittenByEchoOrDrills() throws Exception {
        Path samples = dir.resolve("samples");
        commit(inProgress(samples, "samples-a-0.jsonl", json(0)), "samples-a-0.jsonl");
        String printed = train(2, args(samples, dir.resolve("run"), "--steps", "1", "--echo", "0.5"));
        assertTrue(printed.contains("--echo and --drills rewrite or dilute the data"), printed);
        String neither = train(2, "--out", dir.resolve("run").toString());
        assertTrue(neither.contains("give either --data FILE,... or --samples DIR or --samples-topic TOPIC"), neither);
        assertNotEquals("", printed);
    }
}
