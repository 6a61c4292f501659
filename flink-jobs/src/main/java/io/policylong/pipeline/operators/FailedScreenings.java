package io.policylong.pipeline.operators;

import io.policylong.connectors.files.SourceLine;
import io.policylong.pipeline.tasks.Scheduling;
import io.policylong.records.DeadLetter;
import io.policylong.records.InvalidRecordException;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Reads the job's own committed dead letters back (the only way back upstream in a Flink 2 dataflow, which has
 * no iterations) and turns each screening that failed for good with a possibly transient reason into a retry
 * for the pacer, which screens the document again, paced and bounded. Every other line is ignored.
 */
public final class FailedScreenings extends ProcessFunction<SourceLine, Scheduling> {
    private static final long serialVersionUID = 1L;

    private transient Counter retries;

    @Override
    public void open(OpenContext context) {
        retries = getRuntimeContext().getMetricGroup().counter("failedScreeningsRead");
    }

    @Override
    public void processElement(SourceLine line, Context ctx, Collector<Scheduling> out) {
        if (line.text() == null) {
            return;
        }
        DeadLetter letter;
        try {
            letter = DeadLetter.fromJson(line.text());
        } catch (InvalidRecordException e) {
            return;
        }
        DeadLetter.FailedScreening failed = letter.screening();
        if (failed != null && failed.retryable()) {
            retries.inc();
            out.collect(Scheduling.retry(failed.documentId(), failed.policyVersion()));
        }
    }
}
