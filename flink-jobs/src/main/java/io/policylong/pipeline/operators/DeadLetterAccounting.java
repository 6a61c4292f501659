package io.policylong.pipeline.operators;

import io.policylong.records.DeadLetter;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.metrics.Counter;

/**
 * Counts dead letters by stage and reason category (metric {@code deadLetters} in a {@code reason} group
 * named {@code <stage>/<category>}, see {@link DeadLetterReasons}) and turns them into JSON.
 */
public final class DeadLetterAccounting extends RichMapFunction<DeadLetter, String> {
    private static final long serialVersionUID = 1L;

    private transient Map<String, Counter> byStage;

    @Override
    public void open(OpenContext context) {
        byStage = new HashMap<>();
    }

    @Override
    public String map(DeadLetter letter) {
        String reason = letter.stage() + "/" + DeadLetterReasons.category(letter.reason());
        byStage.computeIfAbsent(reason, r -> getRuntimeContext().getMetricGroup()
                .addGroup("reason", r).counter("deadLetters")).inc();
        return letter.toJson();
    }
}
