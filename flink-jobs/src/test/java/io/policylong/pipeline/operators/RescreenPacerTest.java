package io.policylong.pipeline.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.policylong.records.Document;
import io.policylong.pipeline.tasks.PolicyRef;
import io.policylong.pipeline.tasks.ScreeningTask;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

/** Re-screens are parked in keyed state and released by timers at the configured rate. */
class RescreenPacerTest {

    private static ScreeningTask task(String id, long version, boolean rescreen) {
        return new ScreeningTask(new Document(id, "text", null, Map.of()), new PolicyRef(version, "file:///v", null),
                rescreen);
    }

    private static List<String> drain(KeyedOneInputStreamOperatorTestHarness<String, ScreeningTask, ScreeningTask> h) {
        List<String> out = h.extractOutputValues().stream()
                .map(t -> t.document().id() + "@" + t.policy().version()).toList();
        h.getOutput().clear();
        return out;
    }

    @Test
    void newDocumentsPassAndRescreensArePaced() throws Exception {
        try (KeyedOneInputStreamOperatorTestHarness<String, ScreeningTask, ScreeningTask> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(new RescreenPacer(10), t -> t.document().id(),
                        Types.STRING)) {
            h.setProcessingTime(1000);
            h.processElement(new StreamRecord<>(task("new", 1, false)));
            assertEquals(List.of("new@1"), drain(h), "new documents are not held back");

            h.processElement(new StreamRecord<>(task("a", 1, true)));
            h.processElement(new StreamRecord<>(task("b", 1, true)));
            h.processElement(new StreamRecord<>(task("c", 1, true)));
            assertEquals(List.of(), drain(h));
            assertEquals(3, h.numProcessingTimeTimers(), "one timer per parked document, 100 ms apart");
            assertEquals(3, h.numKeyedStateEntries());

            h.processElement(new StreamRecord<>(task("b", 2, true)));
            assertEquals(3, h.numProcessingTimeTimers(), "a newer version replaces the parked task");

            h.setProcessingTime(1100);
            assertEquals(List.of("a@1"), drain(h));
            h.setProcessingTime(1250);
            assertEquals(List.of("b@2"), drain(h), "the newest version of b leaves");
            h.setProcessingTime(2000);
            assertEquals(List.of("c@1"), drain(h));
            assertEquals(0, h.numProcessingTimeTimers());
            h.getOperator().setCurrentKey("a");
            assertNull(h.getOperator().getKeyedStateStore().getState(RescreenPacer.PARKED).value(), "state cleared");
        }
    }

    @Test
    void aDocumentArrivingWithNewTextTakesThePlaceOfItsParkedRescreen() throws Exception {
        try (KeyedOneInputStreamOperatorTestHarness<String, ScreeningTask, ScreeningTask> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(new RescreenPacer(10), t -> t.document().id(),
                        Types.STRING)) {
            h.setProcessingTime(1000);
            h.processElement(new StreamRecord<>(task("a", 1, true)));
            h.processElement(new StreamRecord<>(task("a", 1, false)));
            assertEquals(List.of("a@1"), drain(h), "the new text is screened at once");
            h.setProcessingTime(2000);
            assertEquals(List.of(), drain(h), "and the old text is not screened a second time");
        }
    }
}
