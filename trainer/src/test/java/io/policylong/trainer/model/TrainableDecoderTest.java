package io.policylong.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import io.policylong.model.config.Architecture;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.DecoderModel;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.scoring.EntropyScorer;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.trainer.data.PackedBatch;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainableDecoderTest {
    /** Tiny, with grouped-query attention, q/k/v biases and an untied head. */
    private static final ModelConfig TINY = new ModelConfig(Architecture.QWEN2, 23, 16, 24, 2, 4, 2, 4, 1e-6,
            10000.0, false, true, false, false, 512, new RopeScaling.None());

    /** Two rows of 9 tokens; the first row holds two pieces (positions restart), the second one piece. */
    private static PackedBatch batch() {
        long[] tokens = {3, 7, 1, 9, 4, 12, 5, 5, 20, 2, 8, 8, 17, 6, 0, 11, 19, 13};
        long[] positions = {0, 1, 2, 3, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8};
        long[] segments = {0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        return new PackedBatch(2, 9, tokens, positions, segments);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        try (TrainableDecoder base = TrainableDecoder.random(TINY, 5, 1.0, Device.cpu());
                TrainableDecoder model = base.copyAs(DataType.FLOAT64)) {
            model.withAttentionChunk(4).attachGradients();
            PackedBatch batch = batch();
            try (NDManager step = model.newStepManager()) {
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    collector.backward(model.loss(step, batch));
                }
                SplittableRandom random = new SplittableRandom(1);
                int checked = 0;
                for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
                    NDArray p = e.getValue();
                    double[] gradient = p.getGradient().toDoubleArray();
                    long size = p.getShape().size();
                    for (int sample = 0; sample < 3; sample++) {
                        int flat = random.nextInt((int) size);
                        double numeric = finiteDifference(model, step, batch, p, flat);
                        double analytic = gradient[flat];
                        double scale = Math.max(1e-4, Math.abs(numeric) + Math.abs(analytic));
                        assertTrue(Math.abs(numeric - analytic) / scale < 1e-5, e.getKey() + "[" + flat + "]: autograd "
                                + analytic + " vs finite difference " + numeric);
                        checked++;
                    }
                }
                assertTrue(checked >= 3 * 20, "checked " + checked + " entries");
            }
        }
    }

    private static double finiteDifference(TrainableDecoder model, NDManager step, PackedBatch batch, NDArray p,
            int flat) {
        double eps = 1e-6;
        NDArray view = p.reshape(-1);
        double original = view.getDouble(flat);
        view.set(new NDIndex(flat), original + eps);
        double plus = model.loss(step, batch).getDouble();
        view.set(new NDIndex(flat), original - eps);
        double minus = model.loss(step, batch).getDouble();
        view.set(new NDIndex(flat), original);
        return (plus - minus) / (2 * eps);
    }

    @Test
    void lossEqualsTheScorersLogProbabilities(@TempDir Path dir) throws Exception {
        try (TrainableDecoder model = TrainableDecoder.random(TINY, 9, 1.0, Device.cpu()).withAttentionChunk(2)) {
            PackedBatch batch = batch();
            double loss;
            try (NDManager step = model.newStepManager()) {
                loss = model.loss(step, batch).toType(DataType.FLOAT64, false).getDouble();
            }
            model.saveWeights(dir, SafetensorsDType.F32);
            try (DecoderModel runtime = DecoderModel.load(dir, Device.cpu())) {
                EntropyScorer scorer = new EntropyScorer(runtime, ChunkSettings.DEFAULT, 4096);
                long[] t = batch.tokens();
                List<ScoreResult> results = scorer.score(List.of(
                        ScoreRequest.allPositions(new long[] {t[0], t[1], t[2], t[3]}),
                        ScoreRequest.allPositions(new long[] {t[4], t[5], t[6], t[7], t[8]}),
                        ScoreRequest.allPositions(java.util.Arrays.copyOfRange(t, 9, 18))));
                double sum = 0;
                int count = 0;
                for (ScoreResult r : results) {
                    for (float lp : r.logprob()) {
                        sum -= lp;
                        count++;
                    }
                }
                assertEquals(batch.targetCount(), count);
                assertEquals(sum / count, loss, 1e-5, "packed training loss equals the scorer's per-piece loss");
            }
        }
    }
}
