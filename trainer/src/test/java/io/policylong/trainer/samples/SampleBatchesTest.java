package io.policylong.trainer.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.policylong.model.config.Architecture;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.trainer.data.PackedBatch;
import io.policylong.trainer.model.TrainableDecoder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sample rows in a batch: full length, padding that changes nothing, anchor weights exactly on anchors. */
class SampleBatchesTest {
    private static final ModelConfig TINY = new ModelConfig(Architecture.QWEN2, 23, 16, 24, 2, 4, 2, 4, 1e-6,
            10000.0, false, true, false, false, 512, new RopeScaling.None());

    private static final SampleRow LONG = new SampleRow("a", 1, new long[] {3, 7, 1, 9, 4, 12, 5, 5, 20, 2, 8},
            new int[] {4, 9}, false);
    private static final SampleRow SHORT = new SampleRow("b", 2, new long[] {6, 0, 11, 19, 13}, new int[] {2}, false);

    private static double loss(TrainableDecoder model, PackedBatch batch) {
        try (NDManager step = model.newStepManager()) {
            return model.loss(step, batch).toType(DataType.FLOAT64, false).getDouble();
        }
    }

    @Test
    void eachSampleIsOneFullRowAndPaddingCarriesNoTargets() {
        PackedBatch batch = SampleBatches.of(List.of(LONG, SHORT), 1);
        assertEquals(2, batch.rows());
        assertEquals(11, batch.length());
        assertEquals(10 + 4, batch.targetCount(), "every next token of each sample, none in the padding");
        for (int i = 0; i < 11; i++) {
            assertEquals(LONG.tokens()[i], batch.tokens()[i]);
            assertEquals(i, batch.positions()[i]);
        }
        try (TrainableDecoder base = TrainableDecoder.random(TINY, 5, 1.0, Device.cpu());
                TrainableDecoder model = base.copyAs(DataType.FLOAT64)) {
            // The padded batch's loss is the target-weighted mean of the rows' own losses: padding changes nothing.
            double together = loss(model, batch);
            double alone = (loss(model, SampleBatches.of(List.of(LONG), 1)) * 10
                    + loss(model, SampleBatches.of(List.of(SHORT), 1)) * 4) / 14;
            assertEquals(alone, together, 1e-9);
        }
    }

    @Test
    void anchorWeightsChangeTheLossExactlyOnAnchorTokens() {
        try (TrainableDecoder base = TrainableDecoder.random(TINY, 7, 1.0, Device.cpu());
                TrainableDecoder model = base.copyAs(DataType.FLOAT64)) {
            List<SampleRow> rows = List.of(LONG, SHORT);
            double plain = loss(model, SampleBatches.of(rows, 1));
            double weighted = loss(model, SampleBatches.of(rows, 3));
            // The loss of the anchor tokens alone, from a batch whose only targets are the anchors' predictions.
            PackedBatch plainBatch = SampleBatches.of(rows, 1);
            float[] onlyAnchors = new float[plainBatch.tokens().length];
            int anchors = 0;
            for (int r = 0; r < rows.size(); r++) {
                for (int a : rows.get(r).anchorIndices()) {
                    onlyAnchors[r * plainBatch.length() + a - 1] = 1;
                    anchors++;
                }
            }
            PackedBatch anchorBatch = new PackedBatch(plainBatch.rows(), plainBatch.length(), plainBatch.tokens(),
                    plainBatch.positions(), plainBatch.segments(), onlyAnchors);
            double anchorLossSum = loss(model, anchorBatch) * anchors;
            assertEquals(3, anchors);
            assertTrue(anchorLossSum > 0);
            assertEquals(plain + 2 * anchorLossSum / 14, weighted, 1e-9);
        }
    }
}
