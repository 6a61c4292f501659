package io.policylong.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings that differ are named; other seeds are not a difference and are kept. */
class ExperimentSettingsTest {
    private static Map<String, Object> settings(double lr, List<Integer> lengths) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("config", "policy: {}\n");
        s.put("lr", lr);
        s.put("lengths", lengths);
        return s;
    }

    @Test
    void otherSettingsAreNamedAndOtherSeedsAreNot(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("settings.json");
        ExperimentSettings.of(settings(3e-4, List.of(512, 2048)), List.of(1L, 2L, 3L)).write(file);
        ExperimentSettings recorded = ExperimentSettings.read(file);
        assertEquals(List.of(), ExperimentSettings.of(settings(3e-4, List.of(512, 2048)), List.of(4L, 5L))
                .differencesFrom(recorded));
        assertEquals(List.of("lengths", "lr"), ExperimentSettings.of(settings(1e-3, List.of(512)), List.of(1L))
                .differencesFrom(recorded));
        Map<String, Object> more = settings(3e-4, List.of(512, 2048));
        more.put("probes", 10);
        assertEquals(List.of("probes"), ExperimentSettings.of(more, List.of(1L)).differencesFrom(recorded),
                "a setting only one side has");

        ExperimentSettings.of(settings(3e-4, List.of(512, 2048)), List.of(5L, 4L)).withSeedsOf(recorded).write(file);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), List.copyOf(ExperimentSettings.read(file).seeds()));
    }

    @Test
    void aRecordWithItsOldDigestReadsAsItsSettings(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("settings.json");
        Files.writeString(file, "{\"config\": \"policy: {}\\n\", \"seeds\": [1, 2], \"lr\": 3.0E-4, "
                + "\"lengths\": [512, 2048], \"fingerprint\": \"ab12\"}");
        ExperimentSettings recorded = ExperimentSettings.read(file);
        assertEquals(List.of(1L, 2L), List.copyOf(recorded.seeds()));
        assertEquals(List.of(), ExperimentSettings.of(settings(3e-4, List.of(512, 2048)), List.of(1L))
                .differencesFrom(recorded));
    }

    @Test
    void aFileThatIsNotAnObjectIsNamed(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("settings.json");
        Files.writeString(file, "[1, 2]");
        IOException e = assertThrows(IOException.class, () -> ExperimentSettings.read(file));
        assertEquals(file + ": not a JSON object of settings", e.getMessage());
    }
}
