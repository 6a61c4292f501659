package io.policylong.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.corpus.BrownCorpus;
import io.policylong.corpus.testing.Corpora;
import io.policylong.evaluation.ArmRun;
import io.policylong.pipeline.job.JobFixtures;
import io.policylong.records.Document;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code policylong experiment} in miniature (one seed, a tiny budget, one probe task): all four arms end to end at
 * the same token budget, the summary written; run again it goes on from what is done; other settings are refused.
 */
class ExperimentCommandTest {
    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed experiment's logs stay to look at
    Path dir;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private int experiment(StringWriter out, StringWriter err, Path config, Path heldOut, String probes) {
        return new CommandLine(new PolicyLong()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(
                "experiment", "--config", config.toString(), "--out", dir.resolve("experiment").toString(), "--seeds",
                "1", "--versions", "1", "--steps-per-version", "2", "--max-length", "2048", "--lr", "1e-3",
                "--tasks", "niah_single", "--lengths", "256", "--probes", probes, "--held-out", heldOut.toString(),
                "--held-out-documents", "2", "--device", "cpu");
    }

    @Test
    void allFourArmsAtTheSameBudgetThenResumedThenOtherSettingsRefused() throws Exception {
        JobFixtures fixtures = JobFixtures.create(Files.createDirectories(dir.resolve("fixtures")));
        Path documents = dir.resolve("documents.jsonl");
        Files.write(documents, fixtures.documents().stream().map(Document::toJson).toList());
        List<Document> brown = BrownCorpus.read(Corpora.brown());
        Path heldOut = dir.resolve("held-out.jsonl");
        Files.write(heldOut, brown.subList(brown.size() - 30, brown.size()).stream().map(Document::toJson).toList());
        Path config = dir.resolve("loop.yaml");
        Files.writeString(config, fixtures.loopYaml(documents, freePort()));

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, experiment(out, err, config, heldOut, "2"), err.toString());
        Path experiment = dir.resolve("experiment");
        ArmRun onPolicy = ArmRun.read(experiment.resolve("on-policy-seed-1/result.json"));
        assertTrue(onPolicy.tokens() > 0);
        for (String arm : List.of("off-policy", "similarity", "documents")) {
            ArmRun run = ArmRun.read(experiment.resolve(arm + "-seed-1/result.json"));
            // The budget is reached at the first step past it: within one row of the on-policy arm's tokens.
            assertTrue(run.tokens() >= onPolicy.tokens() && run.tokens() < onPolicy.tokens() + 2048,
                    arm + ": " + run.tokens() + " tokens against " + onPolicy.tokens());
            assertTrue(Double.isFinite(run.heldOutLoss()), arm);
            assertEquals(1, run.logprob().size(), arm + " evaluated on niah_single@256");
        }
        JsonNode summary = new ObjectMapper().readTree(experiment.resolve("summary/experiment.json").toFile());
        assertEquals(4, summary.path("arms").size());
        assertEquals(3, summary.path("paired").size(), "on-policy against each other arm");
        assertTrue(out.toString().contains("| on-policy - documents | 1 |"), out.toString());
        assertTrue(Files.readString(experiment.resolve("summary/index.html")).contains("data:image/png;base64,"));
        // The similarity arm's contexts were not filtered by dI: every verified context is a positive, none a hard
        // negative, so documents the off-policy screening dropped for want of a positive have samples here.
        List<io.policylong.records.TrainingSample> similar = io.policylong.pipeline.job.SampleChecks.samples(
                experiment.resolve("screen-similarity-seed-1/samples"));
        List<io.policylong.records.TrainingSample> offPolicy = io.policylong.pipeline.job.SampleChecks.samples(
                experiment.resolve("screen-off-policy-seed-1/samples"));
        assertTrue(similar.stream().flatMap(x -> x.segments().stream()).noneMatch(x -> x.role()
                == io.policylong.records.SampleSegment.Role.HARD_NEGATIVE));
        assertTrue(similar.size() >= offPolicy.size(), similar.size() + " against " + offPolicy.size());

        // The seed orders the documents every arm sees.
        List<String> original = Files.readAllLines(documents);
        List<String> ordered = Files.readAllLines(experiment.resolve("documents-order-seed-1.jsonl"));
        assertEquals(new java.util.TreeSet<>(original), new java.util.TreeSet<>(ordered), "the same documents");

        // Run again: every step is read back, nothing is trained again.
        StringWriter again = new StringWriter();
        StringWriter againOut = new StringWriter();
        assertEquals(0, experiment(againOut, again, config, heldOut, "2"), again.toString());
        assertTrue(again.toString().contains("on-policy-seed-1 done earlier"), again.toString());
        assertTrue(again.toString().contains("documents-seed-1 done earlier"), again.toString());
        assertEquals(out.toString(), againOut.toString(), "the same summary");

        // Other settings never mix with these results.
        StringWriter refused = new StringWriter();
        assertEquals(2, experiment(new StringWriter(), refused, config, heldOut, "3"));
        assertTrue(refused.toString().contains("holds an experiment with other settings (probes;"),
                refused.toString());
    }
}
