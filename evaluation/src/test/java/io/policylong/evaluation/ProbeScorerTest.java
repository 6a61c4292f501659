package io.policylong.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.policylong.corpus.BrownCorpus;
import io.policylong.corpus.testing.Corpora;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.DecoderModel;
import io.policylong.model.runtime.ReferenceDecoder;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.scoring.EntropyScorer;
import io.policylong.model.scoring.TokenPredictor;
import io.policylong.model.testing.TestCheckpoints;
import io.policylong.records.Document;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Probe scoring against what is known: the float64 reference decoder's log-probabilities, the same scores batched or
 * alone, and a model that copies from its context (the bundled one) doing better with the needle than without.
 */
class ProbeScorerTest {
    private static final Function<String, long[]> BYTES = text -> {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        long[] ids = new long[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = b[i] & 0xff;
        }
        return ids;
    };
    private static final Function<long[], String> TEXT = ids -> {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            b[i] = (byte) ids[i];
        }
        return new String(b, StandardCharsets.UTF_8);
    };

    @TempDir
    static Path dir;
    private static Haystack haystack;

    @BeforeAll
    static void corpus() throws Exception {
        List<Document> documents = BrownCorpus.read(Corpora.brown());
        haystack = Haystack.of(documents.subList(0, 100).stream().map(Document::text).toList());
    }

    private static ProbeScorer scorer(DecoderModel model, boolean greedy) {
        ChunkSettings chunks = new ChunkSettings(64 * 1024, 64 * 1024, 64 * 1024);
        return new ProbeScorer(new EntropyScorer(model, chunks, 1 << 14), new TokenPredictor(model, chunks), BYTES,
                TEXT, greedy);
    }

    @Test
    void teacherForcedScoresAreTheReferencesAndDoNotDependOnBatching() throws Exception {
        ModelConfig config = TestCheckpoints.tinyLlama(259, false, 2, true, new RopeScaling.None());
        TestCheckpoints.Written written = TestCheckpoints.write(dir.resolve("tiny"), config, SafetensorsDType.F32, 0,
                5);
        List<Probe> probes = new ProbeGenerator(haystack, s -> BYTES.apply(s).length, 5)
                .generate(ProbeTask.NIAH_SINGLE, 256, 3);
        try (DecoderModel model = DecoderModel.load(written.directory(), Device.cpu())) {
            ProbeScorer scorer = scorer(model, true);
            List<ProbeResult> together = scorer.score(probes);
            ReferenceDecoder reference = new ReferenceDecoder(config, written.weights());
            for (int i = 0; i < probes.size(); i++) {
                Probe p = probes.get(i);
                ProbeResult alone = scorer.score(List.of(p)).get(0);
                assertEquals(alone.logprob(), together.get(i).logprob(), 1e-3, "batched or alone");
                assertEquals(alone.controlLogprob(), together.get(i).controlLogprob(), 1e-3);
                assertEquals(alone.firstTokenRank(), together.get(i).firstTokenRank());

                // By hand: the reference's log-probability of each answer token after the prompt, summed.
                long[] prompt = BYTES.apply(p.prompt());
                long[] target = BYTES.apply(p.target());
                double[][] expected = reference.score(ProbeScorer.answerRequest(prompt, target).tokenIds());
                double sum = 0;
                for (int t = 0; t < target.length; t++) {
                    sum += expected[1][prompt.length - 1 + t];
                }
                assertEquals(sum, together.get(i).logprob(), 2e-3 * target.length, "probe " + i);
                assertEquals(target.length, together.get(i).answerTokens());
                assertEquals(prompt.length, together.get(i).promptTokens());
                // The rank is that of the first digit (after the space), where the model has seen the space.
                long[] withSpace = java.util.Arrays.copyOf(prompt, prompt.length + 1);
                withSpace[prompt.length] = target[0];
                float[] logits = new TokenPredictor(model, new ChunkSettings(64 * 1024, 64 * 1024, 64 * 1024))
                        .nextTokenLogits(withSpace);
                assertEquals(TokenPredictor.rank(logits, target[1]), together.get(i).firstTokenRank());
                // Greedy: at most the answer's length and 8 more tokens, scored by string match.
                assertTrue(together.get(i).output().length() <= target.length + 8);
                assertEquals(ProbeScorer.matchAll(together.get(i).output(), p.answers()), together.get(i).match());
            }
        }
    }

    @Test
    void rankAndStringMatchByHand() {
        float[] logits = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
        assertEquals(1, TokenPredictor.rank(logits, 1), "ties share the best rank");
        assertEquals(3, TokenPredictor.rank(logits, 4));
        assertEquals(5, TokenPredictor.rank(logits, 2));
        assertEquals(1, TokenPredictor.argmax(logits), "the lowest id among ties");
        assertEquals(1.0, ProbeScorer.matchAll(" 1234567, 7654321\n", List.of("1234567", "7654321")));
        assertEquals(0.5, ProbeScorer.matchAll(" 1234567\n", List.of("1234567", "7654321")));
        assertEquals(1.0, ProbeScorer.matchAll("the ABCDE and abcde", List.of("abcde")), "case is ignored");
    }

    @Test
    void aModelThatCopiesFromItsContextDoesBetterWithTheNeedle() throws Exception {
        Path bundled = Path.of("..", "models", "byte-lm-4m");
        List<Probe> probes = new ProbeGenerator(haystack, s -> BYTES.apply(s).length, 1)
                .generate(ProbeTask.NIAH_SINGLE, 512, 8);
        try (DecoderModel model = DecoderModel.load(bundled, Device.cpu())) {
            List<ProbeResult> results = scorer(model, false).score(probes);
            TaskSummary summary = TaskSummary.of(results).get(0);
            assertEquals(8, summary.probes());
            assertTrue(summary.copyGain().low() > 0, "with the needle the answer is likelier: " + summary);
            assertTrue(Double.isNaN(summary.match().mean()), "no greedy decoding asked for");
        }
    }
}
