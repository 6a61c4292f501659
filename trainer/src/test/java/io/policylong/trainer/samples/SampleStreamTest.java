package io.policylong.trainer.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.policylong.records.SampleLayout;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import io.policylong.trainer.data.BatchSource;
import io.policylong.trainer.data.PackedBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fresh samples first; once they run out, the newest version's samples again, never older ones. */
class SampleStreamTest {
    private static String sample(String doc, long version) {
        return new TrainingSample(doc + "@" + version, doc, version, SampleLayout.SHUFFLE, 0, "|",
                List.of(new SampleSegment(SampleSegment.Role.DOCUMENT, doc, "text of " + doc, 9, List.of())),
                List.of(), null).toJson();
    }

    private static SampleStream stream(Path dir) {
        return new SampleStream(new CommittedSampleFiles(dir, SamplesPosition.start()), SamplesPosition.start(),
                new SampleRows(SampleRowsTest::bytes, 100), 256, 1, 0, 16, 1, Duration.ofMillis(20),
                Duration.ofSeconds(1), line -> { });
    }

    @Test
    void whenFreshSamplesRunOutTheNewestVersionsAreUsedAgainInTurn(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("samples-a-0.jsonl"), List.of(sample("old", 0), sample("x", 1), sample("y", 1)));
        SampleStream stream = stream(dir).reusingNewestAfter(Duration.ofMillis(100));
        List<Long> versions = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            stream.next(1);
            versions.addAll(stream.takeVersions().keySet());
        }
        assertEquals(List.of(0L, 1L, 1L, 1L, 1L, 1L), versions, "version 0 is never used again");
        assertEquals(3, stream.freshRows());
        assertEquals(3, stream.reusedRows());
        assertEquals(Map.of(), stream.takeVersions());
    }

    @Test
    void samplesOlderThanTheMinimumAreNeverReused(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("samples-a-0.jsonl"), List.of(sample("x", 1)));
        SampleStream stream = stream(dir).reusingNewestAfter(Duration.ofMillis(50));
        long[] minimum = {Long.MIN_VALUE};
        stream.withMinimumVersion(() -> minimum[0]);
        PackedBatch first = stream.next(1);
        assertEquals(1, first.rows());
        minimum[0] = 2;  // the trainer announced version 2: version 1's samples are stale now
        assertThrows(BatchSource.SourceExhaustedException.class, () -> stream.next(1));
        assertEquals(0, stream.reusedRows());
    }
}
