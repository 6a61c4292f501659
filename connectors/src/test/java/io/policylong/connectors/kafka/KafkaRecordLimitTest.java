package io.policylong.connectors.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KafkaRecordLimitTest {
    @Test
    void aRecordFitsUpToTheLimitWithItsOverhead() {
        KafkaRecordLimit limit = new KafkaRecordLimit(1000);
        String key = "doc-1";
        String fits = "x".repeat(1000 - KafkaRecordLimit.RECORD_OVERHEAD_BYTES - key.length());
        assertEquals(Optional.empty(), limit.refusal("the sample", key, fits));
        String refusal = limit.refusal("the sample of document doc-1", key, fits + "x").orElseThrow();
        assertEquals("the sample of document doc-1 takes 1001 bytes as a Kafka record, larger than "
                + "kafka.max-record-bytes (1000)", refusal);
    }

    @Test
    void sizesAreUtf8BytesNotCharacters() {
        String text = "a\u00e9\u20ac\ud83d\ude00\ud800";  // 1 + 2 + 3 + 4 bytes, and a lone surrogate (3, as '?')
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length - 1 + 3, KafkaRecordLimit.utf8Length(text));
        String valid = "a\u00e9\u20ac\ud83d\ude00";
        assertEquals(valid.getBytes(StandardCharsets.UTF_8).length, KafkaRecordLimit.utf8Length(valid));
        assertEquals(KafkaRecordLimit.RECORD_OVERHEAD_BYTES + 10 + 3, KafkaRecordLimit.recordBytes("key", valid));
        assertEquals(KafkaRecordLimit.RECORD_OVERHEAD_BYTES + 10, KafkaRecordLimit.recordBytes(null, valid));
    }

    @Test
    void aLimitBelowTheOverheadIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new KafkaRecordLimit(100));
        assertTrue(e.getMessage().contains("kafka.max-record-bytes"), e.getMessage());
    }
}
