package io.policylong.pipeline.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.records.AnchorGain;
import io.policylong.records.TrainingSample;
import io.policylong.records.SampleSegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Reading what a job committed, and recomputing what its samples claim. */
public final class SampleChecks {
    private SampleChecks() {
    }

    /** The lines of the committed part files under a directory (in-progress files are hidden and skipped). */
    public static List<String> committedLines(Path directory) throws Exception {
        List<String> lines = new ArrayList<>();
        if (!Files.isDirectory(directory)) {
            return lines;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path f : files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted().toList()) {
                lines.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
            }
        }
        return lines;
    }

    /** The committed samples under a directory. */
    public static List<TrainingSample> samples(Path directory) throws Exception {
        List<TrainingSample> samples = new ArrayList<>();
        for (String line : committedLines(directory)) {
            samples.add(TrainingSample.fromJson(line));
        }
        return samples;
    }

    /**
     * Recomputes H, H' and dI of the verified contexts of samples with the checkpoint of their version, as
     * anyone holding that checkpoint could, and asserts they equal what the samples say.
     *
     * @param limit at most this many anchor gains are checked
     * @return the number checked
     */
    public static int assertRecomputable(List<TrainingSample> samples, LongFunction<Path> checkpointOfVersion,
            int limit) throws Exception {
        int checked = 0;
        for (TrainingSample sample : samples) {
            String documentText = sample.segments().stream().filter(s -> s.role() == SampleSegment.Role.DOCUMENT)
                    .map(SampleSegment::text).collect(Collectors.joining());
            for (SampleSegment context : sample.segments()) {
                if (context.role() == SampleSegment.Role.DOCUMENT || checked >= limit) {
                    continue;
                }
                try (LoadedCheckpoint model = LoadedCheckpoint.load(checkpointOfVersion.apply(sample.policyVersion()),
                        Device.cpu(), ChunkSettings.DEFAULT, 1 << 16)) {
                    long[] doc = model.tokenizer().encodeIds(documentText, false);
                    long[] ctx = model.tokenizer().encodeIds(context.text(), false);
                    long[] sep = model.tokenizer().encodeIds(sample.separator(), false);
                    for (AnchorGain g : context.gains()) {
                        long[] alone = Arrays.copyOfRange(doc, g.windowStart(), g.position() + 1);
                        float h = model.scorer().score(List.of(new ScoreRequest(alone,
                                new int[] {alone.length - 2}))).get(0).entropy()[0];
                        long[] with = new long[ctx.length + sep.length + alone.length];
                        System.arraycopy(ctx, 0, with, 0, ctx.length);
                        System.arraycopy(sep, 0, with, ctx.length, sep.length);
                        System.arraycopy(alone, 0, with, ctx.length + sep.length, alone.length);
                        float hPrime = model.scorer().score(List.of(new ScoreRequest(with,
                                new int[] {with.length - 2}))).get(0).entropy()[0];
                        assertEquals(g.entropy(), h, 1e-4, "H at " + g.position());
                        assertEquals(g.entropyWithContext(), hPrime, 1e-4, "H' at " + g.position());
                        assertEquals(g.gain(), (h - hPrime) / h, 1e-4, "dI at " + g.position());
                        checked++;
                    }
                }
            }
        }
        return checked;
    }
}
