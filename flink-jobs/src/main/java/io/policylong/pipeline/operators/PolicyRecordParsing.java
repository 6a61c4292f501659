package io.policylong.pipeline.operators;

import io.policylong.connectors.files.SourceLine;
import io.policylong.records.DeadLetter;
import io.policylong.records.InvalidRecordException;
import io.policylong.records.PolicyUpdate;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Parses policy updates that arrive as JSON records (a Kafka topic); records that cannot be read or parsed
 * go to the dead letters with their origin (topic, partition and offset) and the reason.
 */
public final class PolicyRecordParsing extends ProcessFunction<SourceLine, PolicyUpdate> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(SourceLine record, Context ctx, Collector<PolicyUpdate> out) {
        if (record.problem() != null) {
            ctx.output(DeadLetters.TAG, DeadLetter.ofRaw("policy", null, record.problem(), record.origin()));
            return;
        }
        try {
            out.collect(PolicyUpdate.fromJson(record.text()));
        } catch (InvalidRecordException e) {
            ctx.output(DeadLetters.TAG, DeadLetter.ofRaw("policy", record.text(), e.getMessage(), record.origin()));
        }
    }
}
