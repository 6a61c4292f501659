package io.policylong.pipeline.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.policylong.pipeline.tasks.PolicyRef;
import io.policylong.pipeline.tasks.Scheduling;
import io.policylong.pipeline.tasks.ScreeningTask;
import io.policylong.records.Document;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

/**
 * The pacer holds each document's text once; documents that arrive are screened at once, re-screen tickets are
 * parked and released by timers at the configured rate, and the backlog survives a restore.
 */
class RescreenPacerTest {
    private static PolicyRef policy(long version) {
        return new PolicyRef(version, "file:///v" + version, null);
    }

    private static Scheduling arrived(String id, long version) {
        return Scheduling.arrived(new Document(id, "text of " + id, null, Map.of()), policy(version));
    }

    private static Scheduling ticket(String id, long version) {
        return Scheduling.ticket(id, policy(version), true);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, Scheduling, ScreeningTask> harness()
            throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedProcessFunction(new RescreenPacer(10), Scheduling::documentId,
                Types.STRING);
    }

    private static List<String> drain(KeyedOneInputStreamOperatorTestHarness<String, Scheduling, ScreeningTask> h) {
        List<String> out = h.extractOutputValues().stream()
                .map(t -> t.document().id() + "@" + t.policy().version() + (t.rescreen() ? "r" : "")).toList();
        h.getOutput().clear();
        return out;
    }

    @Test
    void newDocumentsPassAndRescreensArePaced() throws Exception {
        try (var h = harness()) {
            h.setProcessingTime(1000);
            for (String id : List.of("a", "b", "c")) {
                h.processElement(new StreamRecord<>(arrived(id, 1)));
            }
            assertEquals(List.of("a@1", "b@1", "c@1"), drain(h), "documents that arrive are not held back");

            h.processElement(new StreamRecord<>(ticket("a", 2)));
            h.processElement(new StreamRecord<>(ticket("b", 2)));
            h.processElement(new StreamRecord<>(ticket("c", 2)));
            assertEquals(List.of(), drain(h));
            assertEquals(3, h.numProcessingTimeTimers(), "one timer per parked document, 100 ms apart");

            h.processElement(new StreamRecord<>(ticket("b", 3)));
            assertEquals(3, h.numProcessingTimeTimers(), "a newer version replaces the parked ticket");

            h.setProcessingTime(1100);
            assertEquals(List.of("a@2r"), drain(h), "released with its text, held by the pacer");
            h.setProcessingTime(1250);
            assertEquals(List.of("b@3r"), drain(h), "the newest version of b leaves");
            h.setProcessingTime(2000);
            assertEquals(List.of("c@2r"), drain(h));
            assertEquals(0, h.numProcessingTimeTimers());
            h.getOperator().setCurrentKey("a");
            assertNull(h.getOperator().getKeyedStateStore().getState(RescreenPacer.PARKED).value(), "state cleared");
        }
    }

    @Test
    void aDocumentArrivingWithNewTextTakesThePlaceOfItsParkedRescreen() throws Exception {
        try (var h = harness()) {
            h.setProcessingTime(1000);
            h.processElement(new StreamRecord<>(arrived("a", 1)));
            h.processElement(new StreamRecord<>(ticket("a", 2)));
            h.processElement(new StreamRecord<>(arrived("a", 2)));
            assertEquals(List.of("a@1", "a@2"), drain(h), "the new text is screened at once");
            h.setProcessingTime(2000);
            assertEquals(List.of(), drain(h), "and the old text is not screened a second time");
        }
    }

    @Test
    void aDocumentWaitingForItsFirstPolicyIsNotHeldBack() throws Exception {
        try (var h = harness()) {
            h.setProcessingTime(1000);
            h.processElement(new StreamRecord<>(Scheduling.arrived(new Document("a", "t", null, Map.of()), null)));
            assertEquals(List.of(), drain(h), "no policy yet: only the text is kept");
            h.processElement(new StreamRecord<>(Scheduling.ticket("a", policy(0), false)));
            assertEquals(List.of("a@0"), drain(h));
        }
    }

    @Test
    void parkedRescreensAndTheBacklogSurviveARestore() throws Exception {
        PipelineProgress.reset();
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            h.setProcessingTime(1000);
            for (String id : List.of("a", "b", "c")) {
                h.processElement(new StreamRecord<>(arrived(id, 1)));
                h.processElement(new StreamRecord<>(ticket(id, 2)));
            }
            drain(h);
            snapshot = h.snapshot(1, 1000);
            assertEquals(3, PipelineProgress.snapshot().parkedRescreens());
        }
        assertEquals(0, PipelineProgress.snapshot().parkedRescreens(), "a closed pacer gives its share back");
        RescreenPacer restored = new RescreenPacer(10);
        try (var h = new KeyedOneInputStreamOperatorTestHarness<String, Scheduling, ScreeningTask>(
                new org.apache.flink.streaming.api.operators.KeyedProcessOperator<>(restored),
                Scheduling::documentId, Types.STRING)) {
            h.initializeState(snapshot);
            h.open();
            assertEquals(3, h.numProcessingTimeTimers(), "the timers come back");
            assertEquals(3, restored.backlog(), "and so does the backlog figure");
            assertEquals(3, PipelineProgress.snapshot().parkedRescreens(), "which the run's idleness check sees");
            h.setProcessingTime(5000);
            assertEquals(List.of("a@2r", "b@2r", "c@2r"), drain(h).stream().sorted().toList(),
                    "the parked re-screens leave after the restore, with their texts");
            assertEquals(0, restored.backlog());
            assertEquals(0, PipelineProgress.snapshot().parkedRescreens());
        }
    }

    @Test
    void aScreeningThatFailedForGoodIsTriedAgainBoundedAndOnlyUnderItsVersion() throws Exception {
        RescreenPacer pacer = new RescreenPacer(10, 2);
        try (var h = ProcessFunctionTestHarnesses.forKeyedProcessFunction(pacer, Scheduling::documentId,
                Types.STRING)) {
            h.setProcessingTime(1000);
            h.processElement(new StreamRecord<>(arrived("a", 1)));
            assertEquals(List.of("a@1"), drain(h));

            h.processElement(new StreamRecord<>(Scheduling.retry("a", 0)));
            h.setProcessingTime(2000);
            assertEquals(List.of(), drain(h), "a failure under another version than the one sent is stale");

            for (int attempt = 1; attempt <= 3; attempt++) {
                h.processElement(new StreamRecord<>(Scheduling.retry("a", 1)));
                h.setProcessingTime(2000 + attempt * 1000);
                assertEquals(attempt <= 2 ? List.of("a@1r") : List.of(), drain(h), "retry " + attempt);
            }

            h.processElement(new StreamRecord<>(ticket("a", 2)));
            h.setProcessingTime(10_000);
            assertEquals(List.of("a@2r"), drain(h));
            h.processElement(new StreamRecord<>(Scheduling.retry("a", 2)));
            h.setProcessingTime(11_000);
            assertEquals(List.of("a@2r"), drain(h), "a new version starts a new count");
        }
    }
}
