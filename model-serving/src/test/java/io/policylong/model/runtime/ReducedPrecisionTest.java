package io.policylong.model.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.scoring.EntropyScorer;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.model.testing.TestCheckpoints;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The forward pass in float16 against the float64 reference: entropy and log-probabilities within the documented
 * tolerance (README, {@code serve --compute-dtype}), on the CPU engine (GPUs run the same operations); bfloat16 is
 * refused with the reason.
 */
class ReducedPrecisionTest {
    /** Largest difference from the float64 reference, in nats, per compute precision. */
    static double tolerance(ComputePrecision precision) {
        return switch (precision) {
            case FLOAT32 -> 2e-3;
            case FLOAT16 -> 0.05;
        };
    }

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(ComputePrecision.class)
    void staysWithinItsToleranceOfTheDoublePrecisionReference(ComputePrecision precision) throws Exception {
        ModelConfig config = TestCheckpoints.tinyLlama(101, false, 2, true, new RopeScaling.None());
        TestCheckpoints.Written written = TestCheckpoints.write(dir.resolve("ckpt"), config, SafetensorsDType.F32, 0,
                7);
        long[] ids = TestCheckpoints.tokens(300, config.vocabSize(), 11);
        double[][] expected = new ReferenceDecoder(config, written.weights()).score(ids);
        try (DecoderModel model = DecoderModel.load(written.directory(), config, Device.cpu(), precision)) {
            assertEquals(precision, model.precision());
            EntropyScorer scorer = new EntropyScorer(model, new ChunkSettings(64 * 1024, 64 * 1024, 64 * 1024), 1 << 16);
            ScoreResult result = scorer.score(List.of(ScoreRequest.allPositions(ids))).get(0);
            double worst = 0;
            double sum = 0;
            for (int i = 0; i < result.size(); i++) {
                double e = Math.abs(expected[0][i] - result.entropy()[i]);
                double l = Math.abs(expected[1][i] - result.logprob()[i]);
                worst = Math.max(worst, Math.max(e, l));
                sum += e;
            }
            System.out.printf("%s: largest difference from the float64 reference %.5f nats, mean entropy "
                    + "difference %.5f nats%n", precision.label(), worst, sum / result.size());
            assertTrue(worst < tolerance(precision), precision + ": largest difference " + worst + " nats");
        }
    }

    @org.junit.jupiter.api.Test
    void bfloat16IsRefusedWithTheReasonAndAutoPicksByDevice() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ComputePrecision.parse("bf16", Device.cpu()));
        assertTrue(e.getMessage().contains("aborts the process"), e.getMessage());
        assertEquals(ComputePrecision.FLOAT32, ComputePrecision.parse("auto", Device.cpu()));
        assertEquals(ComputePrecision.FLOAT16, ComputePrecision.parse("auto", Device.gpu()));
        assertEquals(ComputePrecision.FLOAT16, ComputePrecision.parse("fp16", Device.cpu()));
    }
}
