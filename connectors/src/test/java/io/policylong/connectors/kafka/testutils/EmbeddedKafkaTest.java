package io.policylong.connectors.kafka.testutils;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Exit;
import org.junit.jupiter.api.Test;

/** The in-process broker is a real one: transactions commit and abort, and it cannot end the JVM. */
class EmbeddedKafkaTest {

    @Test
    void committedTransactionsAreReadAndAbortedOnesAreNot() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic("t", 2);
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "test-tx");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                    new StringSerializer())) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("t", "a", "kept-1"));
                producer.send(new ProducerRecord<>("t", "b", "kept-2"));
                producer.commitTransaction();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("t", "c", "aborted"));
                producer.flush();
                producer.abortTransaction();
            }
            List<String> values = kafka.readCommitted("t", Duration.ofSeconds(2)).stream()
                    .map(ConsumerRecord::value).sorted().toList();
            assertEquals(List.of("kept-1", "kept-2"), values);

            IllegalStateException exit = assertThrows(IllegalStateException.class, () -> Exit.exit(1, "fault"));
            assertTrue(exit.getMessage().contains("tried to exit with 1"), exit.getMessage());
        }
    }
}
