package io.policylong.trainer;

import io.policylong.policy.CheckpointAnnouncer;
import io.policylong.policy.KafkaPublisher;
import io.policylong.policy.PolicyTopic;
import io.policylong.records.PolicyUpdate;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Announces the trainer's checkpoints as the next policy versions: in a checkpoints directory the job watches,
 * on the policies topic, or both (the same descriptor). With a directory the version is the one it claims; on a
 * topic alone it is one above the newest version on the topic (read once, then counted on).
 */
public final class TrainerAnnouncer implements AutoCloseable {
    private final CheckpointAnnouncer directory;
    private final KafkaPublisher publisher;
    private final String bootstrapServers;
    private final String topic;
    private final Map<String, String> properties;
    private final String run;
    private Long lastVersion;

    private TrainerAnnouncer(CheckpointAnnouncer directory, String bootstrapServers, String topic,
            Map<String, String> properties, String run) {
        this.directory = directory;
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
        this.properties = Map.copyOf(properties);
        this.run = run;
        this.publisher = bootstrapServers == null ? null : new KafkaPublisher(bootstrapServers, topic, properties);
    }

    /**
     * An announcer, or null when neither a directory nor a topic is given.
     *
     * @param announceDirectory the checkpoints directory, or null
     * @param bootstrapServers Kafka of the policies topic, or null
     */
    public static TrainerAnnouncer of(Path announceDirectory, String bootstrapServers, String topic,
            Map<String, String> properties, String run) {
        if (announceDirectory == null && bootstrapServers == null) {
            return null;
        }
        return new TrainerAnnouncer(announceDirectory == null ? null : new CheckpointAnnouncer(announceDirectory, run),
                bootstrapServers, topic, properties, run);
    }

    /** Announces a checkpoint the trainer wrote at {@code step}. */
    public PolicyUpdate announce(Path checkpoint, long step) throws IOException, InterruptedException {
        PolicyUpdate update;
        if (directory != null) {
            update = directory.announceNext(checkpoint, step);
        } else {
            if (lastVersion == null) {
                OptionalLong latest = PolicyTopic.latestVersion(bootstrapServers, topic, properties);
                lastVersion = latest.isPresent() ? latest.getAsLong() : -1;
            }
            update = CheckpointAnnouncer.describe(checkpoint, null, lastVersion + 1, step, run);
        }
        if (publisher != null) {
            publisher.sendAndWait(run == null ? "policy" : run, update.toJson());
        }
        lastVersion = update.version();
        return update;
    }

    /** The version announced last by this announcer, or {@code Long.MIN_VALUE} before the first. */
    public long lastVersion() {
        return lastVersion == null || lastVersion < 0 ? Long.MIN_VALUE : lastVersion;
    }

    /** Where announcements go, in words. */
    public String where() {
        List<String> places = new ArrayList<>();
        if (directory != null) {
            places.add(directory.directory().toString());
        }
        if (publisher != null) {
            places.add("topic " + topic + " at " + bootstrapServers);
        }
        return String.join(" and ", places);
    }

    @Override
    public void close() {
        if (publisher != null) {
            publisher.close();
        }
    }
}
