package io.policylong.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.policylong.model.config.Architecture;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.DecoderModel;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.scoring.EntropyScorer;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InductionCircuitSeedTest {
    /** Byte vocabulary, tied embeddings, the given shape. */
    private static ModelConfig shape(Architecture architecture, int layers, int hidden, int heads, int kvHeads,
            int headDim, double theta) {
        return new ModelConfig(architecture, 259, hidden, 256, layers, heads, kvHeads, headDim, 1e-6, theta, true,
                architecture == Architecture.QWEN2, false, false, 4096, new RopeScaling.None());
    }

    /** The bundled recipe's attention shape: four slots (four tokens matched). */
    private static ModelConfig recipe(int layers) {
        return shape(Architecture.QWEN2, layers, 384, 8, 2, 48, 1e16);
    }

    @Test
    void aSeededModelAlreadyPredictsTextThatRepeats(@TempDir Path dir) throws Exception {
        ModelConfig config = recipe(2);
        assertEquals(4, InductionCircuitSeed.slots(config));
        try (TrainableDecoder model = TrainableDecoder.initialized(config, 4, Device.cpu())) {
            model.seedInductionCircuit(4).saveWeights(dir, SafetensorsDType.F32);
        }
        // 200 random printable bytes, then 300 others, then the first 200 again: only context can predict them.
        SplittableRandom random = new SplittableRandom(11);
        long[] first = new long[200];
        long[] between = new long[300];
        for (int i = 0; i < first.length; i++) {
            first[i] = 33 + random.nextInt(94);
        }
        for (int i = 0; i < between.length; i++) {
            between[i] = 33 + random.nextInt(94);
        }
        long[] ids = new long[700];
        System.arraycopy(first, 0, ids, 0, 200);
        System.arraycopy(between, 0, ids, 200, 300);
        System.arraycopy(first, 0, ids, 500, 200);
        try (DecoderModel runtime = DecoderModel.load(dir, Device.cpu())) {
            ScoreResult r = new EntropyScorer(runtime, ChunkSettings.DEFAULT, 4096)
                    .score(List.of(ScoreRequest.allPositions(ids))).get(0);
            // logprob[i] is the log-probability of token i + 1.
            double firstLoss = 0;
            double repeatLoss = 0;
            for (int i = 2; i < 199; i++) {
                firstLoss -= r.logprob()[i];
                repeatLoss -= r.logprob()[500 + i];
            }
            firstLoss /= 197;
            repeatLoss /= 197;
            // ln 94 = 4.5 nats is what a model that ignores the context pays per random printable byte.
            assertTrue(repeatLoss < 2.5 && repeatLoss < firstLoss / 4, "the repeat costs " + repeatLoss
                    + " nats per byte, the first occurrence " + firstLoss);
        }
    }

    @Test
    void shapesThatCannotHoldTheCircuitAreRejectedWithTheReason() {
        assertNull(InductionCircuitSeed.unsupported(recipe(3)));
        ModelConfig narrowSlots = shape(Architecture.QWEN2, 3, 256, 4, 2, 64, 1e6);
        assertNull(InductionCircuitSeed.unsupported(narrowSlots));
        assertEquals(2, InductionCircuitSeed.slots(narrowSlots), "two query heads per key head: two slots");
        assertTrue(InductionCircuitSeed.unsupported(shape(Architecture.LLAMA, 3, 384, 8, 2, 48, 1e16))
                .contains("biases"));
        assertTrue(InductionCircuitSeed.unsupported(recipe(1)).contains("2 layers"));
        assertTrue(InductionCircuitSeed.unsupported(shape(Architecture.QWEN2, 3, 384, 8, 8, 48, 1e16))
                .contains("two query"));
        assertTrue(InductionCircuitSeed.unsupported(shape(Architecture.QWEN2, 3, 384, 8, 2, 48, 1e4))
                .contains("rope_theta"));
        ModelConfig narrow = shape(Architecture.QWEN2, 3, 96, 2, 1, 48, 1e16);
        assertTrue(InductionCircuitSeed.unsupported(narrow).contains("hidden_size >= 4 * head_dim"));
        try (TrainableDecoder model = TrainableDecoder.initialized(narrow, 1, Device.cpu())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.seedInductionCircuit(1));
            assertTrue(e.getMessage().contains("hidden_size >= 4 * head_dim"), e.getMessage());
        }
    }

    @Test
    void orthonormalRowsAreOrthonormal() {
        double[][] m = InductionCircuitSeed.orthonormalRows(8, 20, new SplittableRandom(3));
        for (int a = 0; a < 8; a++) {
            for (int b = 0; b < 8; b++) {
                double dot = 0;
                for (int c = 0; c < 20; c++) {
                    dot += m[a][c] * m[b][c];
                }
                assertEquals(a == b ? 1.0 : 0.0, dot, 1e-9);
            }
        }
    }
}
