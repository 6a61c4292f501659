package io.policylong.pipeline.operators;

import io.policylong.records.DeadLetter;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

/** The side output every operator sends rejected records to. */
public final class DeadLetters {
    /** Dead letters of any stage. */
    public static final OutputTag<DeadLetter> TAG = new OutputTag<>("dead-letters",
            TypeInformation.of(DeadLetter.class));

    private DeadLetters() {
    }
}
