package io.policylong.pipeline.operators;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The screenings an operator finished, held back until the checkpoint that carries their output completes and
 * then reported to {@link PipelineProgress}. A screening finished before checkpoint n's barrier belongs to
 * checkpoint n; if the job fails before n completes, the screening is replayed and reported then. Called from
 * the task thread only (elements, snapshots and checkpoint notifications share it).
 */
final class CommittedScreenings {
    private List<Map.Entry<String, Long>> open = new ArrayList<>();
    private final NavigableMap<Long, List<Map.Entry<String, Long>>> awaitingCommit = new TreeMap<>();

    /** The screening of {@code documentId} under {@code version} left this operator. */
    void finished(String documentId, long version) {
        open.add(Map.entry(documentId, version));
    }

    /** Checkpoint {@code checkpointId} is being taken: what finished so far belongs to it. */
    void barrier(long checkpointId) {
        if (!open.isEmpty()) {
            awaitingCommit.put(checkpointId, open);
            open = new ArrayList<>();
        }
    }

    /** Checkpoint {@code checkpointId} completed: it and every earlier one are committed. */
    void committed(long checkpointId) {
        PipelineProgress.checkpointCompleted();
        NavigableMap<Long, List<Map.Entry<String, Long>>> done = awaitingCommit.headMap(checkpointId, true);
        for (List<Map.Entry<String, Long>> screenings : done.values()) {
            for (Map.Entry<String, Long> s : screenings) {
                PipelineProgress.screeningCommitted(s.getKey(), s.getValue());
            }
        }
        done.clear();
    }
}
