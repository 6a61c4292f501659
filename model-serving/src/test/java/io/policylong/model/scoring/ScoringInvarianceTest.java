package io.policylong.model.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.DecoderModel;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.testing.TestCheckpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Results depend only on the sequence, not on batching, chunking or which positions are asked for. */
class ScoringInvarianceTest {
    private static final float TOLERANCE = 1e-4f;

    @TempDir
    static Path dir;

    private static DecoderModel model;
    private static List<ScoreRequest> requests;

    @BeforeAll
    static void setUp() throws Exception {
        TestCheckpoints.write(dir, TestCheckpoints.tinyLlama(120, false, 2, true, new RopeScaling.None()),
                SafetensorsDType.F32, 0, 3);
        model = DecoderModel.load(dir, Device.cpu());
        requests = new ArrayList<>();
        int[] lengths = {5, 130, 1, 77, 300, 2, 64};
        for (int i = 0; i < lengths.length; i++) {
            requests.add(ScoreRequest.allPositions(TestCheckpoints.tokens(lengths[i], 120, 100 + i)));
        }
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    private static List<ScoreResult> alone(ChunkSettings chunks) {
        EntropyScorer scorer = new EntropyScorer(model, chunks, 1);
        List<ScoreResult> results = new ArrayList<>();
        for (ScoreRequest r : requests) {
            results.add(scorer.score(List.of(r)).get(0));
        }
        return results;
    }

    @Test
    void batchingDoesNotChangeResults() {
        List<ScoreResult> single = alone(ChunkSettings.DEFAULT);
        List<ScoreResult> batched = new EntropyScorer(model, ChunkSettings.DEFAULT, 1 << 20).score(requests);
        List<ScoreResult> reversed = new EntropyScorer(model, ChunkSettings.DEFAULT, 1 << 20)
                .score(reversed(requests));
        for (int i = 0; i < requests.size(); i++) {
            assertEquals(requests.get(i).length() - 1, batched.get(i).size());
            assertClose(single.get(i), batched.get(i));
            assertClose(single.get(i), reversed.get(requests.size() - 1 - i));
        }
    }

    @Test
    void chunkSizesDoNotChangeResults() {
        List<ScoreResult> reference = alone(ChunkSettings.DEFAULT);
        List<ScoreResult> tiny = new EntropyScorer(model, new ChunkSettings(1, 1, 1), 1 << 20).score(requests);
        List<ScoreResult> odd = new EntropyScorer(model, new ChunkSettings(50_000, 20_000, 30_000), 600).score(requests);
        for (int i = 0; i < requests.size(); i++) {
            assertClose(reference.get(i), tiny.get(i));
            assertClose(reference.get(i), odd.get(i));
        }
    }

    @Test
    void requestedPositionsMatchTheFullResult() {
        ScoreRequest full = requests.get(4);
        int[] positions = {0, 17, 150, 298};
        ScoreRequest subset = new ScoreRequest(full.tokenIds(), positions);
        EntropyScorer scorer = new EntropyScorer(model, ChunkSettings.DEFAULT, 1 << 20);
        List<ScoreResult> both = scorer.score(List.of(full, subset));
        ScoreResult all = both.get(0);
        ScoreResult some = both.get(1);
        assertArrayEquals(positions, some.positions());
        for (int i = 0; i < positions.length; i++) {
            assertEquals(all.entropy()[positions[i]], some.entropy()[i], TOLERANCE);
            assertEquals(all.logprob()[positions[i]], some.logprob()[i], TOLERANCE);
        }
    }

    @Test
    void entropyIsANonNegativeValueBoundedByTheVocabulary() {
        ScoreResult r = new EntropyScorer(model, ChunkSettings.DEFAULT, 1 << 20).score(List.of(requests.get(1))).get(0);
        for (int i = 0; i < r.size(); i++) {
            assertTrue(r.entropy()[i] >= -1e-5 && r.entropy()[i] <= Math.log(120) + 1e-4, "entropy " + r.entropy()[i]);
            assertTrue(r.logprob()[i] <= 1e-6, "logprob " + r.logprob()[i]);
        }
    }

    @Test
    void invalidRequestsAreRejectedWithTheReason() {
        EntropyScorer scorer = new EntropyScorer(model, ChunkSettings.DEFAULT, 1 << 20);
        IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                () -> scorer.validate(ScoreRequest.allPositions(new long[] {3, 120})));
        assertTrue(outside.getMessage().contains("token 1 has id 120"), outside.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ScoreRequest(new long[] {1, 2, 3}, new int[] {2}));
        assertThrows(IllegalArgumentException.class, () -> new ScoreRequest(new long[] {1, 2, 3}, new int[] {1, 0}));
        assertThrows(IllegalArgumentException.class, () -> ScoreRequest.allPositions(new long[0]));
    }

    private static List<ScoreRequest> reversed(List<ScoreRequest> list) {
        List<ScoreRequest> copy = new ArrayList<>(list);
        java.util.Collections.reverse(copy);
        return copy;
    }

    private static void assertClose(ScoreResult expected, ScoreResult actual) {
        assertArrayEquals(expected.positions(), actual.positions());
        assertArrayEquals(expected.entropy(), actual.entropy(), TOLERANCE);
        assertArrayEquals(expected.logprob(), actual.logprob(), TOLERANCE);
    }
}
