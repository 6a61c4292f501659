package io.policylong.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Where the trainer's batches come from: packed documents ({@link BatchPacker}) or the job's samples, one per row.
 */
public interface BatchSource {
    /**
     * The next batch of {@code rows} rows.
     *
     * @throws SourceExhaustedException when no more data will come (the trainer then writes a last checkpoint and
     *     stops)
     */
    PackedBatch next(int rows) throws IOException, InterruptedException;

    /** Rows produced so far. */
    long rowsProduced();

    /** Training tokens in a batch this source produced (padding excluded). */
    default long tokens(PackedBatch batch) {
        return (long) batch.rows() * batch.length();
    }

    /**
     * What a checkpoint records to resume this source exactly beyond the row count (the samples read, say), or
     * null when the row count is enough.
     */
    default JsonNode resumeState() {
        return null;
    }

    /**
     * Rows per policy version in the batches since the last call (empty for sources without versions): which
     * checkpoints' samples a step trained on.
     */
    default Map<Long, Long> takeVersions() {
        return Map.of();
    }

    /**
     * Held-out rows of this source's own kind (samples set aside, say) as batches of up to {@code rows} rows, for the
     * trainer's evaluation; empty when the source holds none out.
     */
    default List<PackedBatch> heldOutBatches(int rows) {
        return List.of();
    }

    /** Thrown by {@link #next} when the source has nothing more to give. */
    final class SourceExhaustedException extends IOException {
        private static final long serialVersionUID = 1L;

        public SourceExhaustedException(String message) {
            super(message);
        }
    }
}
