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
    void whenFreshSamplesRunOutTheNewestVersionsAreUsedAgainAtRandom(@TempDir Path dir) throws Exception {
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

    @Test
    void heldOutSamplesAndEverySampleOfTheirDocumentsStayOutOfTrainingAlsoAfterARestart(@TempDir Path dir)
            throws Exception {
        Files.write(dir.resolve("samples-a-0.jsonl"), List.of(sample("a", 0), sample("a", 0), sample("b", 0),
                sample("c", 0), sample("a", 1), sample("d", 1), sample("b", 1), sample("e", 1)));
        SampleStream stream = stream(dir).holdingOut(2, null);
        List<String> trained = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            trained.add(text(stream.next(1)));
        }
        assertEquals(List.of("text of c", "text of d"), trained, "a and b are held out, under every version");
        assertEquals(2, stream.heldOutSamples());
        assertEquals(2, stream.heldOutSkipped(), "a's second version-0 sample and its version-1 sample");
        List<PackedBatch> heldOut = stream.heldOutBatches(1);
        assertEquals(List.of("text of a", "text of b"), List.of(text(heldOut.get(0)), text(heldOut.get(1))));
        for (PackedBatch batch : heldOut) {
            for (int i = 0; i < batch.length() - 1; i++) {
                assertEquals(1f, batch.weights()[i], "held-out loss weighs every target alike");
            }
        }

        var state = stream.resumeState();
        SampleStream continued = new SampleStream(new CommittedSampleFiles(dir, SampleStream.positionOf(state)),
                SampleStream.positionOf(state), new SampleRows(SampleRowsTest::bytes, 100), 256, 1, 0, 16, 1,
                Duration.ofMillis(20), Duration.ofSeconds(1), line -> { }).holdingOut(2, state);
        assertEquals(2, continued.heldOutSamples(), "the same samples are held out after the restart");
        assertEquals("text of e", text(continued.next(1)), "b's version-1 sample is still left out");
        assertEquals("text of a", text(continued.heldOutBatches(2).get(0)));
    }

    /** The text of a one-row batch of {@link SampleRowsTest#bytes} tokens. */
    private static String text(PackedBatch batch) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < batch.length(); i++) {
            if (batch.segments()[i] == 0) {
                text.append((char) batch.tokens()[i]);
            }
        }
        return text.toString();
    }
}
