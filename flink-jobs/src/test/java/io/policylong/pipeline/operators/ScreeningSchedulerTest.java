package io.policylong.pipeline.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.records.DeadLetter;
import io.policylong.records.Document;
import io.policylong.records.PolicyUpdate;
import io.policylong.policy.CheckpointDigest;
import io.policylong.model.checkpoint.RandomCheckpoint;
import io.policylong.model.config.Architecture;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.tokenizer.ByteLevelTokenizerJson;
import io.policylong.pipeline.tasks.PolicyRef;
import io.policylong.pipeline.tasks.ScheduledDocument;
import io.policylong.pipeline.tasks.Scheduling;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broadcast hot-swap: documents in RocksDB-style keyed state, the policy in broadcast state. */
class ScreeningSchedulerTest {
    @TempDir
    static Path dir;

    static Path v0;
    static Path v1;

    static final ModelConfig TINY = new ModelConfig(Architecture.QWEN2, ByteLevelTokenizerJson.VOCAB_SIZE, 16, 32, 1,
            2, 1, 8, 1e-6, 10000.0, true, true, false, false, 4096, new RopeScaling.None());

    @BeforeAll
    static void checkpoints() throws Exception {
        Path tokenizer = dir.resolve("tokenizer.json");
        ByteLevelTokenizerJson.write(tokenizer);
        v0 = dir.resolve("v0");
        v1 = dir.resolve("v1");
        RandomCheckpoint.write(v0, TINY, RandomCheckpoint.tensors(TINY, 1, 1.0), SafetensorsDType.F32, 0, tokenizer);
        RandomCheckpoint.write(v1, TINY, RandomCheckpoint.tensors(TINY, 2, 1.0), SafetensorsDType.F32, 0, tokenizer);
    }

    private static PolicyUpdate update(long version, Path checkpoint, String sha) {
        return new PolicyUpdate(version, checkpoint.toUri().toString(), sha, null, null, null);
    }

    private static Document doc(String id) {
        return new Document(id, "text of " + id, null, Map.of());
    }

    private static KeyedBroadcastOperatorTestHarness<String, Document, PolicyUpdate, Scheduling> harness()
            throws Exception {
        KeyedBroadcastOperatorTestHarness<String, Document, PolicyUpdate, Scheduling> h =
                ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(new ScreeningScheduler(), Document::id,
                        Types.STRING, ScreeningScheduler.POLICY);
        h.open();
        return h;
    }

    /** What went to the pacer: {@code id@version}, {@code r} for a paced re-screen, {@code +text} with a text. */
    private static List<String> tasks(KeyedBroadcastOperatorTestHarness<String, Document, PolicyUpdate, Scheduling> h) {
        List<String> out = h.extractOutputValues().stream().filter(t -> t.policy() != null)
                .map(t -> t.documentId() + "@" + t.policy().version() + (t.rescreen() ? "r" : ""))
                .sorted().collect(Collectors.toList());
        h.getOutput().clear();
        return out;
    }

    private static ScheduledDocument stored(KeyedBroadcastOperatorTestHarness<String, Document, PolicyUpdate,
            Scheduling> h, String key) throws Exception {
        h.getOperator().setCurrentKey(key);
        return h.getOperator().getKeyedStateStore().getState(ScreeningScheduler.SCHEDULE).value();
    }

    @Test
    void aVersionAdvanceRescreensStoredDocuments() throws Exception {
        try (var h = harness()) {
            h.processElement(new StreamRecord<>(doc("a")));
            assertEquals(List.of(), tasks(h), "no policy yet: the document waits in state");
            assertEquals(-1, stored(h, "a").screenedVersion());

            h.processBroadcastElement(new StreamRecord<>(update(0, v0, CheckpointDigest.weightsSha256(v0))));
            assertEquals(List.of("a@0"), tasks(h), "the first policy screens the waiting document");
            assertEquals(0, stored(h, "a").screenedVersion());
            assertEquals(new PolicyRef(0, v0.toUri().toString(), CheckpointDigest.weightsSha256(v0)),
                    h.getBroadcastState(ScreeningScheduler.POLICY).get("current"));

            h.processElement(new StreamRecord<>(doc("b")));
            assertEquals(List.of("b@0"), tasks(h), "a new document is screened under the current version");

            h.processBroadcastElement(new StreamRecord<>(update(1, v1, null)));
            assertEquals(List.of("a@1r", "b@1r"), tasks(h), "every stored document is re-screened under v1");
            assertEquals(1, stored(h, "b").screenedVersion());
            assertEquals(1, stored(h, "a").screenedVersion());
        }
    }

    @Test
    void olderUpdatesChangeNothing() throws Exception {
        try (var h = harness()) {
            h.processBroadcastElement(new StreamRecord<>(update(5, v0, null)));
            h.processElement(new StreamRecord<>(doc("a")));
            tasks(h);

            h.processBroadcastElement(new StreamRecord<>(update(5, v1, null)));
            h.processBroadcastElement(new StreamRecord<>(update(3, v1, null)));
            assertEquals(List.of(), tasks(h), "no re-screening");
            assertEquals(5, h.getBroadcastState(ScreeningScheduler.POLICY).get("current").version());
            assertEquals(5, stored(h, "a").screenedVersion());

            List<DeadLetter> letters = h.getSideOutput(DeadLetters.TAG).stream().map(StreamRecord::getValue).toList();
            assertEquals(2, letters.size());
            assertTrue(letters.get(0).reason().contains("version 5 is not newer than the current version 5"));
            assertTrue(letters.get(1).reason().contains("version 3 is not newer"));
            assertTrue(letters.stream().allMatch(l -> l.stage().equals("policy")));

            h.processBroadcastElement(new StreamRecord<>(update(8, v1, CheckpointDigest.weightsSha256(v1))));
            assertEquals(List.of("a@8r"), tasks(h), "a newer version still goes through");
        }
    }

    @Test
    void aDocumentArrivingAgainIsScreenedAgainOnlyWhenItsTextChanged() throws Exception {
        try (var h = harness()) {
            h.processBroadcastElement(new StreamRecord<>(update(0, v0, null)));
            h.processElement(new StreamRecord<>(doc("a")));
            assertEquals(List.of("a@0"), tasks(h));

            h.processElement(new StreamRecord<>(doc("a")));
            assertEquals(List.of(), tasks(h), "same id, same text, same version: nothing to do");

            Document changed = new Document("a", "new text of a", null, Map.of());
            h.processElement(new StreamRecord<>(changed));
            List<Scheduling> out = h.extractOutputValues();
            assertEquals(1, out.size(), "new text: screened again");
            assertEquals("new text of a", out.get(0).document().text(), "the pacer receives the new text");
            assertFalse(out.get(0).rescreen());
            h.getOutput().clear();
            String digest = stored(h, "a").textDigest();
            h.processElement(new StreamRecord<>(changed));
            assertEquals(List.of(), tasks(h), "and the new text is then a duplicate itself");
            assertEquals(digest, stored(h, "a").textDigest());

            h.processBroadcastElement(new StreamRecord<>(update(1, v1, null)));
            List<Scheduling> rescreened = h.extractOutputValues();
            assertEquals(1, rescreened.size());
            assertNull(rescreened.get(0).document(), "a version advance sends a ticket, not a second copy");
            assertTrue(rescreened.get(0).rescreen());
        }
    }

    @Test
    void aTextReplacedWhileWaitingForAFirstPolicyIsScreenedOnceInItsNewestForm() throws Exception {
        try (var h = harness()) {
            h.processElement(new StreamRecord<>(doc("a")));
            h.processElement(new StreamRecord<>(new Document("a", "new text of a", null, Map.of())));
            List<Scheduling> waiting = h.extractOutputValues();
            assertEquals(2, waiting.size(), "both texts go to the pacer, which keeps the newest");
            assertEquals("new text of a", waiting.get(1).document().text());
            assertTrue(waiting.stream().allMatch(w -> w.policy() == null), "nothing screened without a policy");
            h.getOutput().clear();

            h.processBroadcastElement(new StreamRecord<>(update(0, v0, null)));
            assertEquals(List.of("a@0"), tasks(h), "one screening, of the text the pacer holds");
        }
    }
}
