package io.policylong.pipeline.operators;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** When a run may stop: {@link PipelineProgress.Snapshot#settled}. */
class PipelineProgressSnapshotTest {
    private static PipelineProgress.Snapshot snapshot(long documents, long upToDate, long parked, long checkpoints) {
        return new PipelineProgress.Snapshot(documents, upToDate, upToDate, 0, parked, checkpoints, 10);
    }

    @Test
    void everyStoredDocumentCommittedUnderTheNewestVersionAndNothingParkedIsSettled() {
        assertTrue(snapshot(5, 5, 0, 3).settled(false));
        assertFalse(snapshot(5, 4, 0, 3).settled(false), "one document is not committed yet");
        assertFalse(snapshot(5, 5, 2, 3).settled(false), "re-screens wait in a pacer");
        assertFalse(snapshot(0, 0, 0, 3).settled(false), "a fresh run that has not seen a document");
    }

    @Test
    void aRestoredRunWithNothingInFlightIsSettledOnlyOnceItsOperatorsRun() {
        assertFalse(snapshot(0, 0, 0, 0).settled(true),
                "no checkpoint yet: its operators may not have resumed their in-flight screenings");
        assertTrue(snapshot(0, 0, 0, 1).settled(true));
        assertFalse(snapshot(0, 0, 4, 1).settled(true), "restored re-screens wait in a pacer");
        assertFalse(snapshot(2, 0, 0, 1).settled(true), "restored screenings are in flight");
    }
}
