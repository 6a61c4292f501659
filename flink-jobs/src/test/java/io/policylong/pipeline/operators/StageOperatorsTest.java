package io.policylong.pipeline.operators;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.connectors.files.SmallFile;
import io.policylong.connectors.files.SourceLine;
import io.policylong.records.Anchor;
import io.policylong.records.AnchorGain;
import io.policylong.records.DeadLetter;
import io.policylong.records.Document;
import io.policylong.records.PolicyUpdate;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import io.policylong.model.checkpoint.RandomCheckpoint;
import io.policylong.model.config.Architecture;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.tokenizer.ByteLevelTokenizerJson;
import io.policylong.model.tokenizer.TokenizedText;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.retrieval.ChunkIndexBuilder;
import io.policylong.pipeline.screening.Candidate;
import io.policylong.pipeline.screening.VerifiedContext;
import io.policylong.pipeline.tasks.PolicyRef;
import io.policylong.pipeline.tasks.RetrievedDocument;
import io.policylong.pipeline.tasks.ScoredDocument;
import io.policylong.pipeline.tasks.ScreeningTask;
import io.policylong.pipeline.tasks.VerifiedDocument;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.functions.async.AsyncFunction;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each stage of the screening job through Flink's operator test harnesses, on a real (tiny, random)
 * checkpoint and a real Lucene index: outputs, dead-letter side outputs, and the progress they report when a
 * checkpoint completes.
 */
class StageOperatorsTest {
    static final ModelConfig TINY = new ModelConfig(Architecture.QWEN2, ByteLevelTokenizerJson.VOCAB_SIZE, 32, 64, 2,
            4, 2, 8, 1e-6, 10000.0, true, true, false, false, 4096, new RopeScaling.None());

    @TempDir
    static Path dir;

    static Path checkpoint;
    static PipelineConfig config;
    static String yaml;
    static LoadedCheckpoint model;

    @BeforeAll
    static void fixtures() throws Exception {
        Path tokenizer = dir.resolve("tokenizer.json");
        ByteLevelTokenizerJson.write(tokenizer);
        checkpoint = dir.resolve("v0");
        RandomCheckpoint.write(checkpoint, TINY, RandomCheckpoint.tensors(TINY, 5, 1.0), SafetensorsDType.F32, 0,
                tokenizer);
        Path index = dir.resolve("index");
        try (ChunkIndexBuilder builder = new ChunkIndexBuilder(index, 400, t -> t.length())) {
            builder.add(new Document("self", "The lighthouse keeper polished the brass lamp every evening.", null,
                    Map.of()));
            builder.add(new Document("other", "A lighthouse keeper lives alone and keeps the lamp burning.", null,
                    Map.of()));
            builder.add(new Document("unrelated", "Interest rates rose sharply in the second quarter.", null,
                    Map.of()));
        }
        yaml = String.join("\n",
                "input: {documents: " + dir.resolve("docs") + ", max-document-chars: 2000, max-document-tokens: 300}",
                "policy: {checkpoints: " + dir.resolve("checkpoints") + "}",
                "retrieval: {index: " + index + ", top-k: 4, max-candidates: 4}",
                "screening: {alpha: 2.0, max-anchors: 2, skip-first: 4, window-tokens: 128, left-context: 32}",
                "assembly: {layout: interleave, target-tokens: 400, min-fill: 0.0, input-ids: true, piece-tokens: 399}",
                "scoring: {device: cpu, max-delay: 2ms}",
                "output: {samples: " + dir.resolve("samples") + ", dead-letters: " + dir.resolve("dead") + "}",
                "runtime: {checkpoint-dir: " + dir.resolve("flink") + "}");
        config = PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "test")
                .withAbsoluteLocations("test");
        model = LoadedCheckpoint.load(checkpoint, Device.cpu(), ChunkSettings.DEFAULT, 1 << 16);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static ScreeningTask task(String id, String text) {
        return new ScreeningTask(new Document(id, text, null, Map.of()), new PolicyRef(0, checkpoint.toUri()
                .toString(), null), false);
    }

    private static float entropyBefore(long[] ids, int from, int token) {
        long[] prefix = Arrays.copyOfRange(ids, from, token + 1);
        return model.scorer().score(List.of(new ScoreRequest(prefix, new int[] {prefix.length - 2}))).get(0)
                .entropy()[0];
    }

    private static <I, O> List<O> runAsync(AsyncFunction<I, O> function, Class<I> type, List<I> inputs)
            throws Exception {
        var factory = new AsyncWaitOperatorFactory<>(function, 60_000, 4, AsyncDataStream.OutputMode.ORDERED);
        try (var h = new OneInputStreamOperatorTestHarness<I, O>(factory,
                TypeInformation.of(type).createSerializer(new SerializerConfigImpl()))) {
            h.open();
            for (I input : inputs) {
                h.processElement(new StreamRecord<>(input));
            }
            h.endInput();
            return new ArrayList<>(h.extractOutputValues());
        }
    }

    @Test
    void validationPassesDocumentsAndDeadLettersTheRest() throws Exception {
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(new DocumentValidation(50))) {
            h.processElement(new SourceLine("docs.jsonl:1", "{\"id\": \"ok\", \"text\": \"fine\"}", null), 0);
            h.processElement(new SourceLine("docs.jsonl:2", "{\"id\": ", null), 0);
            h.processElement(new SourceLine("docs.jsonl:3", null, "line 3 is not valid UTF-8"), 0);
            h.processElement(new SourceLine("docs.jsonl:4", "{\"id\": \"big\", \"text\": \"" + "y".repeat(60) + "\"}",
                    null), 0);
            assertEquals(List.of("ok"), h.extractOutputValues().stream().map(Document::id).toList());
            List<DeadLetter> letters = h.getSideOutput(DeadLetters.TAG).stream().map(StreamRecord::getValue).toList();
            assertEquals(3, letters.size());
            assertEquals("docs.jsonl:2", letters.get(0).origin());
            assertTrue(letters.get(0).reason().contains("not valid JSON"), letters.get(0).reason());
            assertTrue(letters.get(1).reason().contains("UTF-8"));
            assertEquals("big", letters.get(2).id());
            assertTrue(letters.get(2).reason().contains("60 characters, more than the limit of 50"));
        }
    }

    @Test
    void policyParsingReadsDescriptorsAndDeadLettersCorruptOnes() throws Exception {
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(new PolicyParsing())) {
            PolicyUpdate update = new PolicyUpdate(7, checkpoint.toUri().toString(), null, 70L, Instant.now(), "r");
            h.processElement(new SmallFile("/c/policy-000000000007.json",
                    update.toJson().getBytes(StandardCharsets.UTF_8), null), 0);
            h.processElement(new SmallFile("/c/policy-000000000008.json",
                    "{\"version\": 8".getBytes(StandardCharsets.UTF_8), null), 0);
            h.processElement(new SmallFile("/c/policy-000000000009.json", null, "larger than 65536 bytes"), 0);
            assertEquals(List.of(7L), h.extractOutputValues().stream().map(PolicyUpdate::version).toList());
            List<DeadLetter> letters = h.getSideOutput(DeadLetters.TAG).stream().map(StreamRecord::getValue).toList();
            assertEquals(List.of("/c/policy-000000000008.json", "/c/policy-000000000009.json"),
                    letters.stream().map(DeadLetter::origin).toList());
            assertTrue(letters.get(1).reason().contains("larger than"));
        }
    }

    @Test
    void entropyStageScoresEveryTokenInWindowsWithLeftContext() throws Exception {
        String text = "Windows of 128 tokens with 32 tokens of left context cover this document, which is long "
                + "enough to need three of them when it is scored one byte per token by the tiny test model. The last "
                + "sentence adds a few more words so that the third window really has tokens to score.";
        List<ScoredDocument> out = runAsync(new EntropyStage(config), ScreeningTask.class, List.of(
                task("long", text), task("huge", "z".repeat(400)), task("one", "a"),
                new ScreeningTask(new Document("lost", "text", null, Map.of()),
                        new PolicyRef(1, dir.resolve("missing").toUri().toString(), null), false)));
        ScoredDocument scored = out.get(0);
        assertNull(scored.failure());
        long[] ids = model.tokenizer().encodeIds(text, false);
        assertTrue(ids.length > 256, "needs several windows");
        assertTrue(Float.isNaN(scored.entropyBefore()[0]));
        for (int t = 1; t < ids.length; t++) {
            int start = scored.windowStarts()[t];
            assertTrue(t - start >= Math.min(t, 32), "token " + t + " has at least 32 tokens of left context");
            assertEquals(entropyBefore(ids, start, t), scored.entropyBefore()[t], 1e-4, "entropy before token " + t);
        }
        assertTrue(out.get(1).failure().contains("400 tokens under policy version 0, more than the limit of 300"));
        assertFalse(out.get(1).retryable(), "an oversize document will not fit on a retry either");
        assertTrue(out.get(2).failure().contains("fewer than 2 tokens"));
        assertTrue(out.get(3).failure().contains("could not be loaded"), out.get(3).failure());
        assertTrue(out.get(3).retryable(), "a checkpoint that fails to load may load on a retry");
    }

    @Test
    void aDocumentLongerThanAPieceIsScoredAsPiecesOfItsOwn() throws Exception {
        String text = "A long document is cut into pieces at token boundaries, and every piece is screened as a "
                + "document of its own, under an id derived from the document's, so that it gets a sample of its own. "
                + "This sentence makes it long enough for three pieces of one hundred and twenty tokens.";
        PipelineConfig pieced = PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(
                yaml.replace("piece-tokens: 399", "piece-tokens: 120")), "test").withAbsoluteLocations("test");
        List<ScoredDocument> out = runAsync(new EntropyStage(pieced), ScreeningTask.class,
                List.of(task("long", text)));
        assertEquals(List.of("long#piece-0", "long#piece-1", "long#piece-2"),
                out.stream().map(s -> s.task().document().id()).toList());
        assertEquals(text, out.stream().map(s -> s.task().document().text()).collect(Collectors.joining()),
                "the pieces are the whole document, in order");
        for (ScoredDocument piece : out) {
            assertNull(piece.failure());
            assertEquals("long", piece.task().storedId(), "retrieval excludes the whole document's chunks");
            assertTrue(piece.tokens().length <= 121, "at most a piece's tokens: " + piece.tokens().length);
            long[] ids = model.tokenizer().encodeIds(piece.task().document().text(), false);
            assertArrayEquals(ids, piece.tokens(), "each piece tokenized on its own, as a reader would");
        }
    }

    private static ScoredDocument scoredWithSpike(String id, String text, int spike) {
        TokenizedText t = model.tokenizer().encode(text, false);
        float[] entropy = new float[t.ids().length];
        Arrays.fill(entropy, 1.0f);
        entropy[0] = Float.NaN;
        entropy[spike] = 9.0f;
        return new ScoredDocument(task(id, text), t.ids(), t.starts(), t.ends(), entropy, new int[t.ids().length],
                null, false);
    }

    @Test
    void retrievalQueriesAroundAnchorsAndNeverReturnsTheDocumentItself() throws Exception {
        String text = "The lighthouse keeper polished the brass lamp every evening.";
        int spike = text.indexOf("keeper");
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(new RetrievalStage(config))) {
            h.processElement(scoredWithSpike("self", text, spike), 0);
            h.processElement(ScoredDocument.failed(task("bad", "x"), "document has fewer than 2 tokens"), 0);
            RetrievedDocument r = h.extractOutputValues().get(0);
            assertEquals(List.of(spike), r.anchors().stream().map(Anchor::position).toList());
            List<String> sources = r.candidates().stream().map(Candidate::sourceDocumentId).toList();
            assertEquals("other", sources.get(0), "the chunk sharing the anchor's words ranks first");
            assertFalse(sources.contains("self"), "never the document's own chunks");
            assertEquals(List.of(spike), r.candidates().get(0).anchors().stream().map(Anchor::position).toList());
            DeadLetter letter = h.getSideOutput(DeadLetters.TAG).poll().getValue();
            assertEquals("entropy", letter.stage());
            assertEquals("bad", letter.id());
        }
    }

    @Test
    void verificationMeasuresEachAnchorWithTheCandidateInFront() throws Exception {
        String text = "The lighthouse keeper polished the brass lamp every evening.";
        long[] ids = model.tokenizer().encodeIds(text, false);
        ScoredDocument scored = scoredWithSpike("self", text, 20);
        float h20 = entropyBefore(ids, 0, 20);
        float h40 = entropyBefore(ids, 0, 40);
        List<Anchor> anchors = List.of(new Anchor(20, h20, 0), new Anchor(40, h40, 0));
        String context = "A lighthouse keeper lives alone and keeps the lamp burning.";
        Candidate candidate = new Candidate("other#0", "other", context, 3.5f, anchors);
        List<VerifiedDocument> out = runAsync(new VerificationStage(config), RetrievedDocument.class,
                List.of(new RetrievedDocument(scored, anchors, List.of(candidate))));
        VerifiedDocument verified = out.get(0);
        assertNull(verified.failure());
        long[] ctx = model.tokenizer().encodeIds(context, false);
        long[] sep = model.tokenizer().encodeIds(config.assembly().separator(), false);
        assertEquals(sep.length, verified.separatorTokens());
        VerifiedContext c = verified.contexts().get(0);
        assertEquals(ctx.length, c.tokens());
        for (AnchorGain g : c.gains()) {
            long[] with = new long[ctx.length + sep.length + g.position() + 1];
            System.arraycopy(ctx, 0, with, 0, ctx.length);
            System.arraycopy(sep, 0, with, ctx.length, sep.length);
            System.arraycopy(ids, 0, with, ctx.length + sep.length, g.position() + 1);
            float expected = entropyBefore(with, 0, with.length - 1);
            assertEquals(expected, g.entropyWithContext(), 1e-4, "H' at " + g.position());
            assertEquals((g.entropy() - expected) / g.entropy(), g.gain(), 1e-5, "dI at " + g.position());
        }
    }

    @Test
    void aDocumentWithoutAPositiveGivesNoSampleUnlessAskedFor() throws Exception {
        String text = "The lighthouse keeper polished the brass lamp every evening.";
        List<Anchor> anchors = List.of(new Anchor(20, 2.0f, 0));
        Candidate weak = new Candidate("unrelated#0", "unrelated", "Interest rates rose.", 2f, anchors);
        VerifiedDocument negativesOnly = new VerifiedDocument(new RetrievedDocument(scoredWithSpike("self", text, 20),
                anchors, List.of(weak)), List.of(new VerifiedContext(weak, 20,
                        List.of(new AnchorGain(20, 2.0f, 2.2f, -0.1f, 0)))), 2);
        PipelineConfig allowing = PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml.replace(
                "input-ids: true}", "input-ids: true, require-positive: false}")), "test").withAbsoluteLocations("test");
        for (PipelineConfig c : List.of(config, allowing)) {
            try (var h = ProcessFunctionTestHarnesses.forBroadcastProcessFunction(new SampleStage(c),
                    SampleStage.NEWEST)) {
                h.processElement(negativesOnly, 0);
                assertEquals(c.assembly().requirePositive() ? 0 : 1, h.extractOutputValues().size(),
                        "require-positive " + c.assembly().requirePositive());
                assertTrue(h.getSideOutput(DeadLetters.TAG) == null || h.getSideOutput(DeadLetters.TAG).isEmpty());
            }
        }
        assertTrue(config.assembly().requirePositive(), "required by default");
    }

    @Test
    void samplesAreReportedAsScreenedOnlyOnceTheirCheckpointCompletes() throws Exception {
        PipelineProgress.reset();
        PipelineProgress.versionSeen(0);
        PipelineProgress.documentStored("self");
        PipelineProgress.documentStored("failed");
        String text = "The lighthouse keeper polished the brass lamp every evening.";
        ScoredDocument scored = scoredWithSpike("self", text, 20);
        List<Anchor> anchors = List.of(new Anchor(20, 2.0f, 0));
        Candidate good = new Candidate("other#0", "other", "A lighthouse keeper lives alone.", 3f, anchors);
        Candidate weak = new Candidate("unrelated#0", "unrelated", "Interest rates rose.", 2f, anchors);
        RetrievedDocument retrieved = new RetrievedDocument(scored, anchors, List.of(good, weak));
        VerifiedDocument verified = new VerifiedDocument(retrieved, List.of(
                new VerifiedContext(good, 32, List.of(new AnchorGain(20, 2.0f, 0.5f, 0.75f, 0))),
                new VerifiedContext(weak, 20, List.of(new AnchorGain(20, 2.0f, 2.2f, -0.1f, 0)))), 2);
        try (var h = ProcessFunctionTestHarnesses.forBroadcastProcessFunction(new SampleStage(config),
                SampleStage.NEWEST)) {
            h.processBroadcastElement(new PolicyUpdate(0, checkpoint.toUri().toString(), null, null, null, null), 0);
            h.processElement(verified, 0);
            h.processElement(VerifiedDocument.failed(new RetrievedDocument(scoredWithSpike("failed", text, 20),
                    anchors, List.of()), "verification timed out"), 0);
            TrainingSample sample = h.extractOutputValues().get(0);
            assertEquals("self", sample.documentId());
            assertEquals(List.of(SampleSegment.Role.POSITIVE, SampleSegment.Role.HARD_NEGATIVE,
                    SampleSegment.Role.DOCUMENT), sample.segments().stream().map(SampleSegment::role).toList(),
                    "interleave: contexts before the text they serve, document text last");
            assertEquals(sample.tokens(), sample.inputIds().length, "input ids of the whole sample");
            assertEquals("verification", h.getSideOutput(DeadLetters.TAG).poll().getValue().stage());

            assertEquals(0, PipelineProgress.snapshot().upToDate(), "nothing is committed before a checkpoint");
            h.snapshot(1, 100);
            assertEquals(0, PipelineProgress.snapshot().upToDate(), "taken, not yet completed");
            h.notifyOfCompletedCheckpoint(1);
            PipelineProgress.Snapshot s = PipelineProgress.snapshot();
            assertEquals(2, s.upToDate(), "the sample and the dead letter both count as screened");
            assertTrue(s.quiescent());
        } finally {
            PipelineProgress.reset();
        }
    }
}
