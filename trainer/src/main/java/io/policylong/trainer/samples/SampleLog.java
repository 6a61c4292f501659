package io.policylong.trainer.samples;

import java.io.IOException;
import java.util.List;

/**
 * Committed samples in the order they can be read, from the job's samples directory or its samples topic, each
 * line with where it is, so that a reader's {@link SamplesPosition} says exactly what it has read.
 */
public interface SampleLog extends AutoCloseable {
    /**
     * A line: {@code part} (a file, or a topic partition) and {@code position} (lines read of that file, or the
     * offset after the record) after it is read.
     *
     * @param origin where it is, for messages ({@code <file>:<line>} or {@code <topic>/<partition>@<offset>})
     */
    record Line(String part, long position, String text, String origin) {
    }

    /** Up to {@code max} lines not returned yet; empty when nothing new is committed. */
    List<Line> next(int max) throws IOException;

    @Override
    default void close() {
    }
}
