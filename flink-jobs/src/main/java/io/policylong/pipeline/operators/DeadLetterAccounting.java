package io.policylong.pipeline.operators;

import io.policylong.connectors.records.DeadLetter;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.metrics.Counter;

/** Counts dead letters by the stage that rejected them (metric {@code deadLetters} with a {@code stage} group). */
public final class DeadLetterAccounting extends RichMapFunction<DeadLetter, String> {
    private static final long serialVersionUID = 1L;

    private transient Map<String, Counter> byStage;

    @Override
    public void open(OpenContext context) {
        byStage = new HashMap<>();
    }

    @Override
    public String map(DeadLetter letter) {
        byStage.computeIfAbsent(letter.stage(), stage -> getRuntimeContext().getMetricGroup()
                .addGroup("stage", stage).counter("deadLetters")).inc();
        return letter.toJson();
    }
}
