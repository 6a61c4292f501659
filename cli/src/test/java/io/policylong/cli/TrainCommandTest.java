package io.policylong.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.records.PolicyUpdate;
import io.policylong.policy.CheckpointDigest;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.DecoderModel;
import io.policylong.model.safetensors.SafetensorsCheckpoint;
import io.policylong.model.scoring.EntropyScorer;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.trainer.TrainerState;
import io.policylong.trainer.data.PackedBatch;
import io.policylong.trainer.model.TrainableDecoder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The train command end to end on a tiny byte-level model. */
class TrainCommandTest {
    @TempDir
    Path dir;

    private Path corpus() throws Exception {
        Path file = dir.resolve("train.jsonl");
        List<String> lines = new ArrayList<>();
        String[] texts = {
            "The quick brown fox jumps over the lazy dog. ",
            "Pack my box with five dozen liquor jugs. ",
            "How vexingly quick daft zebras jump! "};
        for (int i = 0; i < 12; i++) {
            String text = texts[i % texts.length].repeat(4);
            lines.add("{\"id\": \"d" + i + "\", \"text\": \"" + text + "\"}");
        }
        lines.add("{\"id\": \"bad\"}");
        lines.add("{\"id\": \"ids\", \"input_ids\": [72, 105, 33, 72, 105, 33, 72, 105]}");
        Files.write(file, lines, StandardCharsets.UTF_8);
        return file;
    }

    private int train(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new TrainCommand());
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        assertEquals(0, exit, err.toString());
        return exit;
    }

    private String[] args(Path data, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("--data", data.toString(), "--held-out", data.toString(),
                "--out", out.toString(), "--hidden", "32", "--layers", "2", "--heads", "4", "--kv-heads", "2",
                "--intermediate", "64", "--context", "64", "--batch-rows", "4", "--warmup", "5", "--lr", "1e-2",
                "--min-lr", "1e-3", "--log-every", "5", "--eval-rows", "4", "--echo", "0", "--seed", "3",
                "--device", "cpu"));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    @Test
    void lossGoesDownAndCheckpointsAreAnnouncedAndReloadExactly() throws Exception {
        Path data = corpus();
        Path out = dir.resolve("run");
        Path announce = dir.resolve("checkpoints");
        train(args(data, out, "--steps", "60", "--save-every", "30", "--announce-dir", announce.toString(),
                "--run", "test"));

        List<String> log = Files.readAllLines(out.resolve("train_log.csv"));
        double first = Double.parseDouble(log.get(1).split(",")[2]);
        double last = Double.parseDouble(log.get(log.size() - 1).split(",")[2]);
        assertTrue(first > 4.0, "starts near chance (ln 259 = 5.56): " + first);
        assertTrue(last < 1.5, "overfits a tiny repetitive corpus: " + last);
        assertEquals(13, log.size(), "header plus a line every 5 steps");
        assertEquals(12, Files.readAllLines(out.resolve("train_log.jsonl")).size());

        Path step30 = out.resolve("step-00000030");
        Path step60 = out.resolve("step-00000060");
        TrainerState state = TrainerState.read(step60);
        assertEquals(60, state.step());
        assertEquals(60L * 4 * 64, state.tokens());
        assertEquals(1, state.version());
        assertTrue(state.heldOutLoss() < 2.0, "held-out loss " + state.heldOutLoss());

        PolicyUpdate v0 = PolicyDescriptorFiles.read(announce.resolve(PolicyDescriptorFiles.fileName(0)));
        PolicyUpdate v1 = PolicyDescriptorFiles.read(announce.resolve(PolicyDescriptorFiles.fileName(1)));
        assertEquals(step30.toAbsolutePath().normalize().toUri().toString(), v0.uri());
        assertEquals(Long.valueOf(60), v1.step());
        assertEquals(CheckpointDigest.weightsSha256(step60), v1.sha256());
        assertEquals("test", v1.run());

        // The saved weights are the trained values, bit for bit, and score the same in the runtime.
        try (TrainableDecoder reloaded = TrainableDecoder.load(step60, Device.cpu());
                DecoderModel runtime = DecoderModel.load(step60, Device.cpu())) {
            SafetensorsCheckpoint file = SafetensorsCheckpoint.open(step60);
            for (Map.Entry<String, NDArray> e : reloaded.parameters().entrySet()) {
                FloatBuffer stored = FloatBuffer.allocate((int) e.getValue().getShape().size());
                file.readFloat32(e.getKey(), 0, stored.capacity(), stored);
                assertArrayEquals(stored.array(), e.getValue().toFloatArray(), e.getKey());
            }
            long[] ids = "The quick brown fox".chars().mapToLong(c -> c).toArray();
            PackedBatch one = new PackedBatch(1, ids.length, ids, java.util.stream.LongStream.range(0, ids.length)
                    .toArray(), new long[ids.length]);
            double trainingLoss;
            try (NDManager step = reloaded.newStepManager()) {
                trainingLoss = reloaded.loss(step, one).toType(DataType.FLOAT64, false).getDouble();
            }
            ScoreResult scored = new EntropyScorer(runtime, ChunkSettings.DEFAULT, 4096)
                    .score(List.of(ScoreRequest.allPositions(ids))).get(0);
            double scoredLoss = 0;
            for (float lp : scored.logprob()) {
                scoredLoss -= lp;
            }
            assertEquals(trainingLoss, scoredLoss / scored.size(), 1e-5);
        }
    }

    @Test
    void continuingGoesOnWithTheSameStepsScheduleAndData() throws Exception {
        Path data = corpus();
        Path straight = dir.resolve("straight");
        train(args(data, straight, "--steps", "40", "--save-every", "20"));
        // Continue from the step-20 checkpoint into a new directory, as if the run had stopped there.
        Path continued = dir.resolve("continued");
        train(args(data, continued, "--from", straight.resolve("step-00000020").toString(), "--steps", "40"));

        TrainerState resumed = TrainerState.read(continued.resolve("step-00000040"));
        TrainerState reference = TrainerState.read(straight.resolve("step-00000040"));
        assertEquals(40, resumed.step());
        assertEquals(reference.tokens(), resumed.tokens());
        assertEquals(reference.rows(), resumed.rows());
        assertEquals(reference.learningRate(), resumed.learningRate(), 1e-12);
        List<String> continuedLog = Files.readAllLines(continued.resolve("train_log.csv"));
        List<String> straightLog = Files.readAllLines(straight.resolve("train_log.csv"));
        assertTrue(continuedLog.get(1).startsWith("25,"), "the continued run starts at step 21: " + continuedLog.get(1));
        for (int i = 1; i < continuedLog.size(); i++) {
            String[] c = continuedLog.get(i).split(",");
            String[] s = straightLog.get(i + 4).split(",");
            assertEquals(s[0], c[0], "same step");
            assertEquals(Double.parseDouble(s[2]), Double.parseDouble(c[2]), 1e-4,
                    "same training loss at step " + c[0] + " as without the interruption");
            assertEquals(Double.parseDouble(s[4]), Double.parseDouble(c[4]), 1e-9, "same learning rate");
        }
    }
}
