package io.policylong.trainer.samples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.TreeMap;

/**
 * How far a reader of the job's samples has come, per part: for a committed part file of the samples directory,
 * the lines read (committed files never change, so this is exact); for a partition of the samples topic
 * ({@code <topic>/<partition>}), the offset after the last record read. It is saved with each checkpoint's trainer
 * state so that a continued run neither repeats nor skips a sample.
 *
 * @param linesRead the position per part (file name, or topic partition)
 */
public record SamplesPosition(Map<String, Long> linesRead) {
    public SamplesPosition {
        linesRead = Map.copyOf(linesRead);
    }

    /** Nothing read yet. */
    public static SamplesPosition start() {
        return new SamplesPosition(Map.of());
    }

    /** The position in a part: lines read of a file, or the next offset of a partition (0 when never read). */
    public long linesRead(String file) {
        return linesRead.getOrDefault(file, 0L);
    }

    /** This position with {@code lines} read of {@code file}. */
    public SamplesPosition with(String file, long lines) {
        Map<String, Long> next = new TreeMap<>(linesRead);
        next.put(file, lines);
        return new SamplesPosition(next);
    }

    /** The positions summed (lines read in all, for a directory). */
    public long total() {
        return linesRead.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The JSON form: {@code {"<file>": lines, ...}}. */
    public ObjectNode toJson() {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        new TreeMap<>(linesRead).forEach(node::put);
        return node;
    }

    /** Reads the JSON form; a missing node is the start. */
    public static SamplesPosition fromJson(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return start();
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("a samples position must be a JSON object of file names and line counts");
        }
        Map<String, Long> map = new TreeMap<>();
        node.fields().forEachRemaining(e -> {
            if (!e.getValue().canConvertToLong() || e.getValue().asLong() < 0) {
                throw new IllegalArgumentException("samples position of " + e.getKey() + " is not a line count: "
                        + e.getValue());
            }
            map.put(e.getKey(), e.getValue().asLong());
        });
        return new SamplesPosition(map);
    }
}
