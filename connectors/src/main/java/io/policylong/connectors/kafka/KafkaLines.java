package io.policylong.connectors.kafka;

import io.policylong.connectors.files.SourceLine;
import io.policylong.records.StrictUtf8;
import java.nio.charset.CharacterCodingException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads a Kafka record's value as one JSON text, like a line of a JSONL file. It never throws: a value that
 * is missing, larger than the limit or not valid UTF-8 becomes a {@link SourceLine} with a problem, so that
 * it reaches the dead letters instead of failing the job. The origin names the record:
 * {@code <topic>/<partition>@<offset>}.
 */
public final class KafkaLines implements KafkaRecordDeserializationSchema<SourceLine> {
    private static final long serialVersionUID = 1L;

    private final int maxBytes;

    /** @param maxBytes largest value accepted */
    public KafkaLines(int maxBytes) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("the value limit must be positive");
        }
        this.maxBytes = maxBytes;
    }

    /** Where a record came from, as dead letters name it. */
    public static String origin(String topic, int partition, long offset) {
        return topic + "/" + partition + "@" + offset;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<SourceLine> out) {
        String origin = origin(record.topic(), record.partition(), record.offset());
        byte[] value = record.value();
        if (value == null) {
            out.collect(new SourceLine(origin, null, "record " + origin + " has no value"));
            return;
        }
        if (value.length > maxBytes) {
            out.collect(new SourceLine(origin, null, "record " + origin + " has a value of " + value.length
                    + " bytes, more than the limit of " + maxBytes));
            return;
        }
        try {
            String text = StrictUtf8.decode(value);
            out.collect(new SourceLine(origin, text, null));
        } catch (CharacterCodingException e) {
            out.collect(new SourceLine(origin, null, "record " + origin + " is not valid UTF-8"));
        }
    }

    @Override
    public TypeInformation<SourceLine> getProducedType() {
        return TypeInformation.of(SourceLine.class);
    }
}
