package io.policylong.connectors.kafka;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/** Which of a job's topics exist, and creating the missing ones. */
public final class KafkaTopics {
    private KafkaTopics() {
    }

    /**
     * A topic the job needs.
     *
     * @param name the topic
     * @param partitions its partitions when created, or null for the broker's default
     * @param configs its topic configurations when created (for example {@code max.message.bytes})
     */
    public record Spec(String name, Integer partitions, Map<String, String> configs) {
        public Spec {
            configs = Map.copyOf(configs);
        }
    }

    /** The topics among {@code specs} that do not exist. */
    public static List<Spec> missing(String bootstrapServers, Map<String, String> properties, List<Spec> specs)
            throws Exception {
        try (Admin admin = admin(bootstrapServers, properties)) {
            Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
            return specs.stream().filter(s -> !existing.contains(s.name())).toList();
        }
    }

    /**
     * Creates the topics among {@code specs} that do not exist yet (one created meanwhile by someone else is
     * fine); returns the names created.
     *
     * @param replicationFactor replicas of each new topic, or null for the broker's default
     */
    public static List<String> create(String bootstrapServers, Map<String, String> properties, List<Spec> specs,
            Short replicationFactor) throws Exception {
        List<String> created = new ArrayList<>();
        try (Admin admin = admin(bootstrapServers, properties)) {
            for (Spec spec : specs) {
                NewTopic topic = new NewTopic(spec.name(), Optional.ofNullable(spec.partitions()),
                        Optional.ofNullable(replicationFactor)).configs(spec.configs());
                try {
                    admin.createTopics(List.of(topic)).all().get(60, TimeUnit.SECONDS);
                    created.add(spec.name());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("could not create topic " + spec.name() + ": "
                                + e.getCause().getMessage(), e.getCause());
                    }
                }
            }
        }
        return created;
    }

    private static Admin admin(String bootstrapServers, Map<String, String> properties) {
        Map<String, Object> config = new HashMap<>(properties);
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return Admin.create(config);
    }
}
