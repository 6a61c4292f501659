package io.policylong.pipeline.operators;

import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.connectors.files.SmallFile;
import io.policylong.records.DeadLetter;
import io.policylong.records.InvalidRecordException;
import io.policylong.records.PolicyUpdate;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/** Parses policy descriptor files; a corrupt or partial one goes to the dead letters with its reason. */
public final class PolicyParsing extends ProcessFunction<SmallFile, PolicyUpdate> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(SmallFile file, Context ctx, Collector<PolicyUpdate> out) {
        if (file.problem() != null) {
            ctx.output(DeadLetters.TAG, DeadLetter.ofRaw("policy", null, file.problem(), file.path()));
            return;
        }
        try {
            out.collect(PolicyDescriptorFiles.parse(file.path(), file.content()));
        } catch (InvalidRecordException e) {
            ctx.output(DeadLetters.TAG, DeadLetter.ofRaw("policy", null, e.getMessage(), file.path()));
        }
    }
}
