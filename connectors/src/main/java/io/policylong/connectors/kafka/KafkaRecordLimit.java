package io.policylong.connectors.kafka;

import java.util.Optional;

/**
 * The largest record the job writes to a topic ({@code kafka.max-record-bytes}): the producer's
 * {@code max.request.size} and, in a deployment, the topics' {@code max.message.bytes}. A record over it would
 * fail its Kafka transaction and, retried from the last checkpoint, fail it again forever; checked before the sink
 * it becomes a dead letter instead.
 */
public final class KafkaRecordLimit {
    /**
     * Bytes a record batch adds around one key and value (batch header, record header, varints, timestamp), rounded
     * up generously so that a record under the limit is never refused by a producer or broker set to the same
     * limit.
     */
    public static final int RECORD_OVERHEAD_BYTES = 512;

    private final int maxRecordBytes;

    /** A limit of {@code maxRecordBytes} per record, overhead included. */
    public KafkaRecordLimit(int maxRecordBytes) {
        if (maxRecordBytes <= RECORD_OVERHEAD_BYTES) {
            throw new IllegalArgumentException("kafka.max-record-bytes must be larger than " + RECORD_OVERHEAD_BYTES
                    + ", the overhead of a record, but is " + maxRecordBytes);
        }
        this.maxRecordBytes = maxRecordBytes;
    }

    /** The limit, in bytes. */
    public int maxRecordBytes() {
        return maxRecordBytes;
    }

    /** Bytes a record with this key (null for none) and value takes in a batch, at most. */
    public static long recordBytes(String key, String value) {
        long bytes = RECORD_OVERHEAD_BYTES + utf8Length(value);
        return key == null ? bytes : bytes + utf8Length(key);
    }

    /**
     * Why a record with this key and value cannot be written, or empty when it fits.
     *
     * @param what what the record is, for the message (for example "the sample of document d1")
     */
    public Optional<String> refusal(String what, String key, String value) {
        long bytes = recordBytes(key, value);
        if (bytes <= maxRecordBytes) {
            return Optional.empty();
        }
        return Optional.of(what + " takes " + bytes + " bytes as a Kafka record, larger than kafka.max-record-bytes ("
                + maxRecordBytes + ")");
    }

    /** UTF-8 length without encoding (samples can be megabytes); a lone surrogate counts 3, never less. */
    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
