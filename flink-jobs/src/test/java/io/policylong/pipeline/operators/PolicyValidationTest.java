package io.policylong.pipeline.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.model.checkpoint.RandomCheckpoint;
import io.policylong.model.config.Architecture;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.tokenizer.ByteLevelTokenizerJson;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.tasks.PolicyVerdict;
import io.policylong.policy.CheckpointDigest;
import io.policylong.records.DeadLetter;
import io.policylong.records.PolicyUpdate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Policy updates validated once, before the broadcast: checkpoint checks, then versions only forward. */
class PolicyValidationTest {
    static final ModelConfig TINY = new ModelConfig(Architecture.QWEN2, ByteLevelTokenizerJson.VOCAB_SIZE, 16, 32, 1,
            2, 1, 8, 1e-6, 10000.0, true, true, false, false, 4096, new RopeScaling.None());

    @TempDir
    static Path dir;

    static Path v0;
    static Path v1;
    static PipelineConfig config;

    @BeforeAll
    static void checkpoints() throws Exception {
        Path tokenizer = dir.resolve("tokenizer.json");
        ByteLevelTokenizerJson.write(tokenizer);
        v0 = dir.resolve("v0");
        v1 = dir.resolve("v1");
        RandomCheckpoint.write(v0, TINY, RandomCheckpoint.tensors(TINY, 1, 1.0), SafetensorsDType.F32, 0, tokenizer);
        RandomCheckpoint.write(v1, TINY, RandomCheckpoint.tensors(TINY, 2, 1.0), SafetensorsDType.F32, 0, tokenizer);
        String yaml = String.join("\n",
                "input: {documents: " + dir.resolve("docs") + "}",
                "policy: {checkpoints: " + dir.resolve("checkpoints") + "}",
                "retrieval: {index: " + dir.resolve("index") + "}",
                "output: {samples: " + dir.resolve("samples") + ", dead-letters: " + dir.resolve("dead") + "}",
                "runtime: {cache-dir: " + dir.resolve("cache") + "}");
        config = PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "test")
                .withAbsoluteLocations("test");
    }

    private static PolicyUpdate update(long version, Path checkpoint, String sha) {
        return new PolicyUpdate(version, checkpoint.toUri().toString(), sha, null, null, null);
    }

    private static List<PolicyVerdict> validate(List<PolicyUpdate> updates) throws Exception {
        return validate(new PolicyValidation(config), updates);
    }

    private static List<PolicyVerdict> validate(PolicyValidation validation, List<PolicyUpdate> updates)
            throws Exception {
        var factory = new AsyncWaitOperatorFactory<>(validation, 60_000, 4, AsyncDataStream.OutputMode.ORDERED);
        try (var h = new OneInputStreamOperatorTestHarness<PolicyUpdate, PolicyVerdict>(factory,
                TypeInformation.of(PolicyUpdate.class).createSerializer(new SerializerConfigImpl()))) {
            h.open();
            for (PolicyUpdate u : updates) {
                h.processElement(new StreamRecord<>(u));
            }
            h.endInput();
            return List.copyOf(h.extractOutputValues());
        }
    }

    @Test
    void brokenCheckpointsAreRejectedWithTheReasonAndValidOnesPass() throws Exception {
        PolicyVerdict valid = validate(List.of(update(0, v0, CheckpointDigest.weightsSha256(v0)))).get(0);
        assertEquals(PolicyVerdict.Outcome.ACCEPTED, valid.outcome());
        assertNull(valid.reason());
        PolicyVerdict missing = validate(List.of(update(1, dir.resolve("missing"), null))).get(0);
        assertEquals(PolicyVerdict.Outcome.REJECTED, missing.outcome());
        assertTrue(missing.reason().contains("checkpoint directory does not exist"), missing.reason());
        PolicyVerdict digest = validate(List.of(update(2, v1, "00".repeat(32)))).get(0);
        assertTrue(digest.reason().contains("weights sha256 is"), digest.reason());
        assertEquals(PolicyVerdict.Outcome.ACCEPTED, validate(List.of(update(3, v1, null))).get(0).outcome());
        PolicyVerdict relative = validate(List.of(new PolicyUpdate(4, "checkpoints/v1", null, null, null, null)))
                .get(0);
        assertTrue(relative.reason().contains("is a relative path"), relative.reason());
    }

    @Test
    void anUpdateWithANewerOneQueuedBehindItIsSkippedUnvalidated() throws Exception {
        // Validations wait until all three updates have been handed over, as when a policy topic is replayed.
        java.util.concurrent.CountDownLatch handedOver = new java.util.concurrent.CountDownLatch(1);
        PolicyValidation gated = new PolicyValidation(config, () -> new java.util.concurrent.ThreadPoolExecutor(1,
                1, 0, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>()) {
            @Override
            protected void beforeExecute(Thread t, Runnable r) {
                try {
                    handedOver.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        var factory = new AsyncWaitOperatorFactory<>(gated, 60_000, 4, AsyncDataStream.OutputMode.ORDERED);
        try (var h = new OneInputStreamOperatorTestHarness<PolicyUpdate, PolicyVerdict>(factory,
                TypeInformation.of(PolicyUpdate.class).createSerializer(new SerializerConfigImpl()))) {
            h.open();
            h.processElement(new StreamRecord<>(update(0, dir.resolve("missing"), null)));
            h.processElement(new StreamRecord<>(update(1, v0, null)));
            h.processElement(new StreamRecord<>(update(2, v1, CheckpointDigest.weightsSha256(v1))));
            handedOver.countDown();
            h.endInput();
            List<PolicyVerdict> verdicts = List.copyOf(h.extractOutputValues());
            assertEquals(List.of(PolicyVerdict.Outcome.SUPERSEDED, PolicyVerdict.Outcome.SUPERSEDED,
                    PolicyVerdict.Outcome.ACCEPTED), verdicts.stream().map(PolicyVerdict::outcome).toList(),
                    "only the newest is validated (the broken version 0 is never even looked at)");
            assertTrue(verdicts.get(0).reason().contains("superseded by version 2"), verdicts.get(0).reason());
        }
    }

    @Test
    void weightsChangedAfterTheAnnouncementAreRejected() throws Exception {
        Path changed = dir.resolve("changed");
        RandomCheckpoint.write(changed, TINY, RandomCheckpoint.tensors(TINY, 3, 1.0), SafetensorsDType.F32, 0,
                dir.resolve("tokenizer.json"));
        String announced = CheckpointDigest.weightsSha256(changed);
        byte[] weights = Files.readAllBytes(changed.resolve("model.safetensors"));
        weights[weights.length - 1] ^= 1;
        Files.write(changed.resolve("model.safetensors"), weights);
        PolicyVerdict verdict = validate(List.of(update(4, changed, announced))).get(0);
        assertTrue(verdict.reason().contains("weights sha256 is") && verdict.reason().contains(announced),
                verdict.reason());
    }

    @Test
    void verdictsPassNewerAcceptedVersionsAndDeadLetterTheRestAcrossARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(new PolicyVerdicts())) {
            h.processElement(PolicyVerdict.accepted(update(2, v0, null)), 0);
            h.processElement(PolicyVerdict.rejected(update(3, v1, null), "checkpoint rejected: broken"), 0);
            h.processElement(PolicyVerdict.accepted(update(1, v1, null)), 0);
            h.processElement(PolicyVerdict.accepted(update(2, v1, null)), 0);
            h.processElement(PolicyVerdict.superseded(update(1, v1, null), 2), 0);
            assertEquals(List.of(2L), h.extractOutputValues().stream().map(PolicyUpdate::version).toList());
            List<DeadLetter> letters = h.getSideOutput(DeadLetters.TAG).stream().map(StreamRecord::getValue).toList();
            assertEquals(3, letters.size(), "a superseded update is no dead letter");
            assertEquals("checkpoint rejected: broken", letters.get(0).reason());
            assertTrue(letters.get(1).reason().contains("version 1 is not newer than the current version 2"));
            assertTrue(letters.get(2).reason().contains("version 2 is not newer"));
            snapshot = h.snapshot(1, 1);
        }
        var restored = new OneInputStreamOperatorTestHarness<PolicyVerdict, PolicyUpdate>(
                new org.apache.flink.streaming.api.operators.ProcessOperator<>(new PolicyVerdicts()));
        restored.initializeState(snapshot);
        restored.open();
        restored.processElement(new StreamRecord<>(PolicyVerdict.accepted(update(2, v1, null))));
        restored.processElement(new StreamRecord<>(PolicyVerdict.accepted(update(3, v1, null))));
        assertEquals(List.of(3L), restored.extractOutputValues().stream().map(PolicyUpdate::version).toList(),
                "the newest version passed on survives a restore");
        restored.close();
    }
}
