package io.policylong.model.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.DecoderModel;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.testing.TestCheckpoints;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A continuation (keys and values kept, appended tokens run alone) gives the logits of the whole sequence run at
 * once: single tokens, blocks that span several attention chunks after cached keys, going back, a failed step.
 */
class TokenPredictorTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("qwen2 gqa yarn", TestCheckpoints.tinyQwen2(97, true,
                        new RopeScaling.Yarn(4.0, 256, 32, 1, Double.NaN, Double.NaN, Double.NaN, true))),
                Arguments.of("llama mha biases llama3", TestCheckpoints.tinyLlama(101, false, 4, true,
                        new RopeScaling.Llama3(8.0, 1.0, 4.0, 64))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void aContinuationGivesTheLogitsOfTheWholeSequence(String name, ModelConfig config) throws Exception {
        TestCheckpoints.Written written = TestCheckpoints.write(dir.resolve("ckpt"), config, SafetensorsDType.F32,
                0L, 3);
        long[] ids = TestCheckpoints.tokens(120, config.vocabSize(), 9);
        try (DecoderModel model = DecoderModel.load(written.directory(), Device.cpu())) {
            // About 7 query rows per attention chunk at these lengths: appended blocks span several chunks.
            for (ChunkSettings chunks : new ChunkSettings[] {new ChunkSettings(11_200, 1 << 20, 1 << 20),
                ChunkSettings.DEFAULT}) {
                TokenPredictor predictor = new TokenPredictor(model, chunks);
                try (TokenPredictor.Continuation c = predictor.start(Arrays.copyOf(ids, 60))) {
                    assertClose(predictor.nextTokenLogits(Arrays.copyOf(ids, 60)), c.logits(), "the prompt");
                    assertClose(predictor.nextTokenLogits(Arrays.copyOf(ids, 61)), c.append(ids[60]), "one token");
                    assertClose(predictor.nextTokenLogits(Arrays.copyOf(ids, 91)),
                            c.append(Arrays.copyOfRange(ids, 61, 91)), "a block of 30");
                    // Back into the block, another token, then the block's own tokens again.
                    c.truncate(75);
                    assertThrows(IllegalStateException.class, c::logits, "no logits until a token is appended");
                    long[] branch = Arrays.copyOf(ids, 76);
                    branch[75] = (ids[75] + 1) % config.vocabSize();
                    assertClose(predictor.nextTokenLogits(branch), c.append(branch[75]), "after going back");
                    c.truncate(75);
                    assertClose(predictor.nextTokenLogits(Arrays.copyOf(ids, 91)),
                            c.append(Arrays.copyOfRange(ids, 75, 91)), "the block's end again");
                    // A step that fails leaves the sequence as it was.
                    long outside = config.vocabSize() + 5;
                    assertThrows(RuntimeException.class, () -> c.append(ids[91], outside));
                    assertEquals(91, c.length());
                    for (int n = 91; n < 120; n++) {
                        assertClose(predictor.nextTokenLogits(Arrays.copyOf(ids, n + 1)), c.append(ids[n]),
                                "token " + n);
                    }
                    c.close();
                    assertThrows(IllegalStateException.class, () -> c.append(ids[0]), "closed");
                }
                assertThrows(IllegalArgumentException.class, () -> predictor.start(new long[0]));
            }
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertEquals(0, worst, TOLERANCE, what + ": largest logit difference");
    }
}
