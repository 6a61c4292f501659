package io.policylong.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparison of arms computed by hand: means over seeds, paired differences seed by seed, the files. */
class ExperimentSummaryTest {
    private static final List<String> ARMS = List.of("on-policy", "off-policy");

    private static ArmRun run(String arm, long seed, double loss, double logprob, double gain) {
        return new ArmRun(arm, seed, 1000, loss, Map.of("niah_single@512", logprob, "niah_single@1024", logprob - 1),
                Map.of("niah_single@512", gain, "niah_single@1024", gain), 1);
    }

    private static ExperimentSummary summary() {
        // Seed 2's off-policy run is listed first: pairs are matched by seed, not by position.
        return ExperimentSummary.of(List.of(run("off-policy", 2, 1.5, -2.0, 0.5), run("on-policy", 1, 1.2, -1.0, 1.0),
                run("on-policy", 2, 1.4, -3.0, 0.8), run("off-policy", 1, 1.0, -1.5, 0.6)), ARMS, "on-policy",
                run("base", 0, 2.0, -4.0, 0.1));
    }

    @Test
    void armsAreMeansOverSeedsAndDifferencesArePairedBySeed() {
        ExperimentSummary s = summary();
        assertEquals(1.3, s.arms().get("on-policy").heldOutLoss().mean(), 1e-12);
        assertEquals(1.25, s.arms().get("off-policy").heldOutLoss().mean(), 1e-12);
        // Differences 1.2 - 1.0 = 0.2 (seed 1) and 1.4 - 1.5 = -0.1 (seed 2): mean 0.05, half-width t(0.975, 1)
        // times sd / sqrt(2) = 12.7062 * (0.3 / sqrt 2) / sqrt 2 = 12.7062 * 0.15.
        Estimate d = s.paired().get("on-policy - off-policy").heldOutLoss();
        assertEquals(0.05, d.mean(), 1e-12);
        assertEquals(0.05 - 12.7062 * 0.15, d.low(), 1e-3);
        assertEquals(0.05 + 12.7062 * 0.15, d.high(), 1e-3);
        // Log-probability: 0.5 (seed 1) and -1.0 (seed 2).
        assertEquals(-0.25, s.paired().get("on-policy - off-policy").logprob().get("niah_single@512").mean(), 1e-12);
        assertEquals(0.35, s.paired().get("on-policy - off-policy").copyGain().get("niah_single@512").mean(), 1e-12);
    }

    @Test
    void theTablesHoldLogprobAndCopyGainWithTheBaseAndTheFilesAreWritten(@TempDir Path dir) throws Exception {
        ExperimentSummary s = summary();
        String table = s.table();
        assertTrue(table.contains("| base | – | 2.000 | -4.000 | -5.000 |"), table);
        assertTrue(table.contains("| base | – | 2.000 | 0.100 | 0.100 |"), "the base's copy gain:\n" + table);
        assertTrue(table.contains("| on-policy - off-policy | 2 | 0.050 ["), table);
        assertTrue(table.contains("copy gain niah_single@512"), table);
        s.write(dir);
        byte[] magic = {(byte) 0x89, 'P', 'N', 'G'};
        for (String png : List.of("niah-single-answer-logprob.png", "niah-single-paired-differences.png")) {
            assertArrayEquals(magic, Arrays.copyOf(Files.readAllBytes(dir.resolve(png)), 4), png);
        }
        String page = Files.readString(dir.resolve("index.html"));
        assertTrue(page.contains("on-policy minus each arm"), "the differences' plot is on the page");
        assertFalse(page.contains("NaN"), "no number is written as NaN");
        assertTrue(Files.readString(dir.resolve("experiment.json")).contains("\"paired\""));
    }
}
