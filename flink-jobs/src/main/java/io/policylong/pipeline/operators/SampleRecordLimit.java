package io.policylong.pipeline.operators;

import io.policylong.connectors.kafka.KafkaRecordLimit;
import io.policylong.records.DeadLetter;
import io.policylong.records.TrainingSample;
import java.util.Optional;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Passes the samples that fit in one Kafka record of the samples topic; a larger one becomes a dead letter
 * (stage {@code output}, metric {@code samplesTooLarge}) instead of failing every transaction of the sink.
 */
public final class SampleRecordLimit extends ProcessFunction<TrainingSample, TrainingSample> {
    private static final long serialVersionUID = 1L;

    private final int maxRecordBytes;
    private transient KafkaRecordLimit limit;
    private transient Counter tooLarge;

    /** Samples up to {@code maxRecordBytes} per record (key and JSON value, with the record's overhead). */
    public SampleRecordLimit(int maxRecordBytes) {
        this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public void open(OpenContext context) {
        limit = new KafkaRecordLimit(maxRecordBytes);
        tooLarge = getRuntimeContext().getMetricGroup().counter("samplesTooLarge");
    }

    @Override
    public void processElement(TrainingSample sample, Context ctx, Collector<TrainingSample> out) {
        Optional<String> refusal = limit.refusal("the sample of document " + sample.documentId(),
                sample.documentId(), sample.toJson());
        if (refusal.isPresent()) {
            tooLarge.inc();
            ctx.output(DeadLetters.TAG, DeadLetter.of("output", sample.documentId(), refusal.get(), null));
        } else {
            out.collect(sample);
        }
    }
}
