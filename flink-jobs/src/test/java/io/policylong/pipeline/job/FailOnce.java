package io.policylong.pipeline.job;

import io.policylong.connectors.files.SourceLine;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * An input tap that slows the document stream down (so that checkpoints complete while documents are still
 * coming) and fails once, at the given record: a task failure mid-stream. The counters are JVM-wide, as the
 * mini cluster runs in the test's JVM; {@link #arm} resets them.
 */
public final class FailOnce implements MapFunction<SourceLine, SourceLine> {
    private static final long serialVersionUID = 1L;
    public static final AtomicInteger SEEN = new AtomicInteger();
    public static volatile boolean failed;
    private final int at;

    private FailOnce(int at) {
        this.at = at;
    }

    /** A tap that fails at record {@code at}, with the counters reset. */
    public static FailOnce arm(int at) {
        SEEN.set(0);
        failed = false;
        return new FailOnce(at);
    }

    @Override
    public SourceLine map(SourceLine line) throws Exception {
        Thread.sleep(300);
        if (!failed && SEEN.incrementAndGet() == at) {
            failed = true;
            throw new IllegalStateException("injected failure");
        }
        return line;
    }
}
