package io.policylong.model.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The DJL decoder against the double-precision reference, across architectures, dtypes and layouts. */
class DecoderReferenceTest {
    private static final double TOLERANCE_NATS = 1e-3;

    @TempDir
    Path dir;

    static Stream<Arguments> checkpoints() {
        RopeScaling none = new RopeScaling.None();
        RopeScaling llama3 = new RopeScaling.Llama3(8.0, 1.0, 4.0, 64);
        RopeScaling yarn = new RopeScaling.Yarn(4.0, 256, 32, 1, Double.NaN, Double.NaN, Double.NaN, true);
        RopeScaling linear = new RopeScaling.Linear(2.0);
        return Stream.of(
                Arguments.of("qwen2 f32 single untied gqa", TestCheckpoints.tinyQwen2(97, false, none),
                        SafetensorsDType.F32, 0L, 40),
                Arguments.of("qwen2 bf16 sharded tied", TestCheckpoints.tinyQwen2(97, true, none),
                        SafetensorsDType.BF16, 20_000L, 40),
                Arguments.of("qwen2 f16 single tied yarn", TestCheckpoints.tinyQwen2(97, true, yarn),
                        SafetensorsDType.F16, 0L, 300),
                Arguments.of("llama f16 sharded untied mha biases llama3", TestCheckpoints.tinyLlama(101, false, 4,
                        true, llama3), SafetensorsDType.F16, 15_000L, 300),
                Arguments.of("llama bf16 single tied gqa linear", TestCheckpoints.tinyLlama(101, true, 1, false,
                        linear), SafetensorsDType.BF16, 0L, 60),
                Arguments.of("llama f32 sharded untied gqa", TestCheckpoints.tinyLlama(101, false, 2, false, none),
                        SafetensorsDType.F32, 25_000L, 60));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpoints")
    void matchesDoublePrecisionReference(String name, ModelConfig config, SafetensorsDType dtype, long shardBytes,
            int length) throws Exception {
        TestCheckpoints.Written written = TestCheckpoints.write(dir.resolve("ckpt"), config, dtype, shardBytes, 7);
        long[] ids = TestCheckpoints.tokens(length, config.vocabSize(), 11);
        double[][] expected = new ReferenceDecoder(config, written.weights()).score(ids);
        try (DecoderModel model = DecoderModel.load(written.directory(), Device.cpu())) {
            EntropyScorer scorer = new EntropyScorer(model, new ChunkSettings(10_000, 20_000, 5_000), 1 << 16);
            ScoreResult result = scorer.score(List.of(ScoreRequest.allPositions(ids))).get(0);
            assertEquals(length - 1, result.size());
            assertClose(expected, result);
            assertTrue(spread(expected[0]) > 0.1, "entropies should vary along the sequence");
        }
    }

    @ParameterizedTest(name = "{0} tokens")
    @org.junit.jupiter.params.provider.ValueSource(ints = {2048})
    void matchesReferenceOnLongSequencesWithSmallChunks(int length) throws Exception {
        ModelConfig config = TestCheckpoints.tinyQwen2(89, true,
                new RopeScaling.Yarn(4.0, 512, 32, 1, Double.NaN, Double.NaN, Double.NaN, true));
        TestCheckpoints.Written written = TestCheckpoints.write(dir.resolve("long"), config, SafetensorsDType.BF16,
                0L, 3);
        long[] ids = TestCheckpoints.tokens(length, config.vocabSize(), 5);
        double[][] expected = new ReferenceDecoder(config, written.weights()).score(ids);
        try (DecoderModel model = DecoderModel.load(written.directory(), Device.cpu())) {
            EntropyScorer scorer = new EntropyScorer(model, new ChunkSettings(10_000_000, 134_400, 178_000), 1 << 16);
            assertClose(expected, scorer.score(List.of(ScoreRequest.allPositions(ids))).get(0));
        }
    }

    static void assertClose(double[][] expected, ScoreResult actual) {
        double worst = 0;
        for (int i = 0; i < actual.size(); i++) {
            worst = Math.max(worst, Math.abs(expected[0][i] - actual.entropy()[i]));
            worst = Math.max(worst, Math.abs(expected[1][i] - actual.logprob()[i]));
        }
        assertTrue(worst < TOLERANCE_NATS, "largest difference from the reference: " + worst + " nats");
    }

    private static double spread(double[] values) {
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (double v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        return max - min;
    }
}
