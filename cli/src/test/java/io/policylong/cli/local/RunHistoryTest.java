package io.policylong.cli.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.pipeline.config.PipelineConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which checkpoint a local run resumes from, and when it must not. */
class RunHistoryTest {
    @TempDir
    Path dir;

    private static PipelineConfig config(String extra) throws Exception {
        return PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(String.join("\n",
                "input: {documents: /in}", "policy: {checkpoints: /c}", "retrieval: {index: /i}",
                "output: {samples: /s, dead-letters: /d}", extra)), "test");
    }

    private Path point(String relative, long millis) throws Exception {
        Path p = Files.createDirectories(dir.resolve(relative));
        Files.writeString(p.resolve("_metadata"), "m");
        Files.setLastModifiedTime(p.resolve("_metadata"), FileTime.fromMillis(millis));
        return p;
    }

    @Test
    void theNewestCheckpointOrSavepointOfTheRecordedJobsIsResumed() throws Exception {
        String job = "64d11da621d11e5ef51a970bcd0af82b";
        Map<String, String> settings = RunHistory.settingsOf(config("screening: {alpha: 1.5}"));
        RunHistory history = RunHistory.open(dir);
        assertFalse(history.hasJob());
        history.record(settings, job);
        point(job + "/chk-3", 1000);
        Path newest = point(job + "/chk-4", 3000);
        Files.createDirectories(dir.resolve(job + "/chk-5")); // never completed: no _metadata
        point("0123456789abcdef0123456789abcdef/chk-9", 9000); // another job's
        point("savepoints/savepoint-ffffff-1a2b3c", 8000); // another job's savepoint

        RunHistory reopened = RunHistory.open(dir);
        assertTrue(reopened.hasJob());
        assertEquals(newest, reopened.newestRestorePoint().orElseThrow());
        Path savepoint = point("savepoints/savepoint-64d11d-9f8e7d", 5000);
        assertEquals(savepoint, reopened.newestRestorePoint().orElseThrow(), "a later savepoint of the job");
        assertEquals(List.of(), reopened.changes(RunHistory.settingsOf(config(
                "screening: {alpha: 1.5}\nruntime: {web-ui-port: 9000, summary-interval: 1m}"))),
                "the web UI and the summary do not make another job");
    }

    @Test
    void aChangedConfigurationIsNamedAndAFreshStartForgetsTheOldJob() throws Exception {
        RunHistory history = RunHistory.open(dir);
        history.record(RunHistory.settingsOf(config("screening: {alpha: 1.5}")), "64d11da621d11e5ef51a970bcd0af82b");
        Map<String, String> changed = RunHistory.settingsOf(config("screening: {alpha: 2.5}"));
        assertEquals(List.of("screening.alpha: 1.5 -> 2.5"), RunHistory.open(dir).changes(changed));

        RunHistory fresh = RunHistory.open(dir);
        fresh.forget();
        fresh.record(changed, "aaaaaa21d11e5ef51a970bcd0af82bcd");
        point("64d11da621d11e5ef51a970bcd0af82b/chk-7", 9000);
        assertTrue(RunHistory.open(dir).newestRestorePoint().isEmpty(), "the old job's checkpoints are not resumed");
        assertEquals(List.of(), RunHistory.open(dir).changes(changed));
    }
}
