package io.policylong.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.records.Anchor;
import io.policylong.records.AnchorGain;
import io.policylong.records.SampleLayout;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The curriculum numbers against values worked out by hand for a small run. */
class CurriculumReportTest {
    private static final double EPS = 1e-6;

    private static SampleSegment context(SampleSegment.Role role, String chunk, double... gains) {
        List<AnchorGain> list = new ArrayList<>();
        for (double g : gains) {
            list.add(new AnchorGain(0, 1f, 1f, (float) g, 0));
        }
        return new SampleSegment(role, chunk, "text of " + chunk, 3, list);
    }

    private static TrainingSample sample(String doc, long version, List<Anchor> anchors, SampleSegment... contexts) {
        List<SampleSegment> segments = new ArrayList<>(List.of(contexts));
        segments.add(new SampleSegment(SampleSegment.Role.DOCUMENT, doc, "document " + doc, 10, List.of()));
        return new TrainingSample(doc + "@" + version, doc, version, SampleLayout.SHUFFLE, 20, "\n\n", segments,
                anchors, null);
    }

    private static final SampleSegment.Role POS = SampleSegment.Role.POSITIVE;
    private static final SampleSegment.Role NEG = SampleSegment.Role.HARD_NEGATIVE;

    static List<TrainingSample> run() {
        return List.of(
                sample("A", 0, List.of(new Anchor(5, 2f, 0), new Anchor(9, 3f, 0)), context(POS, "c1", 0.5, 0.7),
                        context(POS, "c2", 0.6), context(NEG, "c3", -0.1)),
                sample("B", 0, List.of(new Anchor(4, 1f, 0)), context(POS, "c4", 0.9), context(NEG, "c5", 0.0)),
                sample("A", 1, List.of(new Anchor(9, 2.5f, 0), new Anchor(12, 1.5f, 0)), context(POS, "c1", 0.8),
                        context(POS, "c3", 0.55), context(NEG, "c2", -0.05)),
                sample("C", 1, List.of()));
    }

    @Test
    void perVersionNumbersAndChangesFromTheVersionBefore() {
        List<VersionCurriculum> versions = CurriculumStats.of(run());
        assertEquals(2, versions.size());
        VersionCurriculum v0 = versions.get(0);
        assertEquals(0, v0.version());
        assertEquals(2, v0.samples());
        assertEquals(2, v0.documents());
        assertEquals(1.5, v0.anchorsPerDocument(), EPS);
        assertEquals(2.0, v0.anchorMeanEntropy(), EPS);
        assertEquals(1.5, v0.positivesPerDocument(), EPS);
        assertEquals(1.0, v0.hardNegativesPerDocument(), EPS);
        // Positives' best gains: 0.7 (c1), 0.6 (c2), 0.9 (c4).
        assertEquals(3, v0.positiveGain().count());
        assertEquals((0.7 + 0.6 + 0.9) / 3, v0.positiveGain().mean(), EPS);
        assertEquals(0.6, v0.positiveGain().p10(), EPS);
        assertEquals(0.7, v0.positiveGain().p50(), EPS);
        assertEquals(0.9, v0.positiveGain().p90(), EPS);
        assertEquals(-0.05, v0.hardNegativeGain().mean(), EPS);
        assertEquals(-0.1, v0.hardNegativeGain().p50(), EPS);
        assertEquals(0, v0.comparedDocuments());
        assertTrue(Double.isNaN(v0.anchorsLearned()), "nothing to compare the first version with");

        VersionCurriculum v1 = versions.get(1);
        assertEquals(2, v1.documents());
        assertEquals(1.0, v1.anchorsPerDocument(), EPS);
        assertEquals(2.0, v1.anchorMeanEntropy(), EPS);
        assertEquals(1.0, v1.positivesPerDocument(), EPS);
        assertEquals(0.5, v1.hardNegativesPerDocument(), EPS);
        // Only A was sampled under both: c2 stopped being positive (1 of c1, c2), c3 turned positive (1 of 1),
        // anchor 5 was learned (1 of 5, 9), anchor 12 is new (1 of 9, 12).
        assertEquals(1, v1.comparedDocuments());
        assertEquals(0.5, v1.positivesNoLongerPositive(), EPS);
        assertEquals(1.0, v1.hardNegativesNowPositive(), EPS);
        assertEquals(0.5, v1.anchorsLearned(), EPS);
        assertEquals(0.5, v1.anchorsNew(), EPS);
    }

    @Test
    void theTrainersStalenessComesFromItsAnnouncementsAndTheVersionsItTrainedOn(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("train_log.jsonl"), List.of("{\"step\":1,\"train_loss\":2.0}",
                "{\"step\":2,\"train_loss\":1.8,\"held_out_loss\":1.9,\"held_out_sample_loss\":2.2}", "{\"step\":3,\"train_loss\":1.7}",
                "{\"step\":4,\"train_loss\":1.6}"));
        Files.write(dir.resolve("sample_versions.jsonl"), List.of("{\"step\":1,\"versions\":{\"0\":1}}",
                "{\"step\":2,\"versions\":{\"0\":1}}", "{\"step\":3,\"versions\":{\"0\":1,\"1\":1}}",
                "{\"step\":4,\"versions\":{\"1\":2}}"));
        for (int step : new int[] {2, 4}) {
            Path checkpoint = Files.createDirectories(dir.resolve(String.format("step-%08d", step)));
            Files.writeString(checkpoint.resolve("trainer_state.json"), "{\"step\":" + step + ",\"version\":"
                    + (step / 2) + "}");
        }
        TrainerCurriculum trainer = TrainerLogs.read(dir, 0);
        assertEquals(List.of(0L, 0L, 1L, 1L), trainer.steps().stream().map(TrainerCurriculum.Step::newestVersion)
                .toList(), "version 1 (announced at step 2) is the newest from step 3 on");
        assertEquals(0.5, trainer.steps().get(2).meanSampleVersion(), EPS);
        assertEquals(1.9, trainer.steps().get(1).heldOutLoss(), EPS);
        assertEquals(2.2, trainer.steps().get(1).heldOutSampleLoss(), EPS);
        assertTrue(Double.isNaN(trainer.steps().get(2).heldOutSampleLoss()), "evaluated at checkpoints only");
        // Staleness: step 3 trained one row of version 0 while version 1 was out: 1 over 6 rows.
        assertEquals(1.0 / 6, trainer.meanStaleness(), EPS);
    }

    @Test
    void theJobsMetricsGoThroughTheirFileIntoTheJsonAndThePage(@TempDir Path dir) throws Exception {
        JobTelemetry job = new JobTelemetry(100, 80, 40_000, 120_000, 30, List.of(
                new JobTelemetry.Version(0, null, 40, 50), new JobTelemetry.Version(1, 12.5, 40, 20)));
        Path file = dir.resolve("job-metrics.json");
        job.write(file);
        JobTelemetry read = JobTelemetry.read(file);
        assertEquals(job, read);
        assertEquals(2.0, read.versions().get(1).screeningsPerSecond(), EPS);
        assertEquals(1200, read.forwardTokensPerSecond(), EPS);
        ReportWriter.write(new CurriculumReport(CurriculumStats.of(run()), null, read), dir.resolve("report"));
        JsonNode json = new ObjectMapper().readTree(dir.resolve("report/report.json").toFile());
        assertEquals(12.5, json.path("job").path("versions").get(1).path("swap_seconds").asDouble(), EPS);
        assertTrue(json.path("job").path("versions").get(0).path("swap_seconds").isNull());
        String html = Files.readString(dir.resolve("report/index.html"));
        assertTrue(html.contains("<tr><td>1</td><td>12.500</td><td>40</td><td>2.000</td></tr>"), html);
        assertTrue(html.contains("80 screenings committed in 100.000 s (0.800 per second)"), html);
        Files.writeString(file, "{\"seconds\": \"soon\"}");
        IOException e = assertThrows(IOException.class, () -> JobTelemetry.read(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void theJsonAndThePageCarryTheSameNumbers(@TempDir Path dir) throws Exception {
        CurriculumReport report = new CurriculumReport(CurriculumStats.of(run()), null, null);
        ReportWriter.write(report, dir);
        JsonNode json = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        assertEquals(2, json.path("versions").size());
        JsonNode v1 = json.path("versions").get(1);
        assertEquals(0.5, v1.path("positives_no_longer_positive").asDouble(), EPS);
        assertEquals(0.7, json.path("versions").get(0).path("positive_gain").path("p50").asDouble(), EPS);
        assertTrue(json.path("versions").get(0).path("anchors_learned").isNull(), "NaN is written as null");
        String html = Files.readString(dir.resolve("index.html"));
        assertEquals(3, html.split("data:image/png;base64,", -1).length - 1, "three charts");
        assertTrue(html.contains("<td>1</td><td>2</td><td>2</td><td>1.000</td><td>2.000</td><td>1.000</td>"
                + "<td>0.500</td>"), html.substring(0, Math.min(html.length(), 3000)));
        assertTrue(html.contains("<td>0.500</td><td>1.000</td><td>0.500</td><td>0.500</td></tr>"));
        assertTrue(Files.notExists(dir.resolve(".report.json.tmp")));
    }
}
