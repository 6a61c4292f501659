package io.policylong.policy;

import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.records.InvalidRecordException;
import io.policylong.records.PolicyUpdate;
import io.policylong.policy.CheckpointDigest;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.safetensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Announces checkpoints as policy updates: checks that the directory is a loadable checkpoint (configuration
 * and weight headers), digests its weights and drops the descriptor atomically into the checkpoints
 * directory that the pipeline watches. Versions only move forward.
 */
public final class CheckpointAnnouncer {
    private final Path announceDirectory;
    private final String run;

    /**
     * @param announceDirectory where descriptors go
     * @param run name of the training run recorded in each descriptor, or null
     */
    public CheckpointAnnouncer(Path announceDirectory, String run) {
        this.announceDirectory = announceDirectory;
        this.run = run;
    }

    /** Where descriptors go. */
    public Path directory() {
        return announceDirectory;
    }

    /**
     * Announces a checkpoint as the next version (one above the newest already announced, 0 at first). The
     * version is claimed atomically: when another announcer takes it first, the next one is tried, so
     * concurrent announcers each get their own version and none overwrites another.
     */
    public PolicyUpdate announceNext(Path checkpoint, Long step) throws IOException {
        PolicyUpdate described = null;
        while (true) {
            OptionalLong latest = PolicyDescriptorFiles.latestVersion(announceDirectory);
            long version = latest.isPresent() ? latest.getAsLong() + 1 : 0;
            // Digest once; only the version changes between attempts.
            described = described == null ? describe(checkpoint, null, version, step, run)
                    : new PolicyUpdate(version, described.uri(), described.sha256(), step, Instant.now(), run);
            try {
                PolicyDescriptorFiles.write(announceDirectory, described);
                return described;
            } catch (FileAlreadyExistsException e) {
                // Claimed meanwhile by another announcer: try the next version.
            }
        }
    }

    /**
     * Announces a checkpoint unless the newest announcement already names it with the same weights: as version
     * 0 in an empty directory, and as the next version when the newest announcement is of this checkpoint
     * but its weights have changed since (a directory updated in place, whose old announcement the pipeline
     * would now reject). A newest announcement of another checkpoint, or one that cannot be read, is left to
     * stand: it is what the pipeline follows.
     *
     * @return the new announcement, or empty when none was made
     */
    public Optional<PolicyUpdate> announceUnlessCurrent(Path checkpoint) throws IOException {
        OptionalLong latest = PolicyDescriptorFiles.latestVersion(announceDirectory);
        if (latest.isEmpty()) {
            return Optional.of(announce(checkpoint, 0, null));
        }
        PolicyUpdate newest;
        try {
            newest = PolicyDescriptorFiles.read(
                    announceDirectory.resolve(PolicyDescriptorFiles.fileName(latest.getAsLong())));
        } catch (InvalidRecordException e) {
            return Optional.empty();
        }
        if (!uri(checkpoint).equals(newest.uri())) {
            return Optional.empty();
        }
        // Only now digest the weights: the newest announcement names this checkpoint.
        PolicyUpdate update = describe(checkpoint, latest.getAsLong() + 1, null, run);
        if (update.sha256().equals(newest.sha256())) {
            return Optional.empty();
        }
        PolicyDescriptorFiles.write(announceDirectory, update);
        return Optional.of(update);
    }

    /**
     * Announces a checkpoint as the given version.
     *
     * @throws IllegalArgumentException when the version is not above every version already announced
     */
    public PolicyUpdate announce(Path checkpoint, long version, Long step) throws IOException {
        return announce(checkpoint, null, version, step);
    }

    /**
     * Announces a checkpoint as the given version, under the URI that TaskManagers load it from (null: the
     * directory's own {@code file:} URI); the weights are digested from {@code checkpoint}, a local copy of
     * the same files.
     *
     * @throws IllegalArgumentException when the version is not above every version already announced
     */
    public PolicyUpdate announce(Path checkpoint, String uri, long version, Long step) throws IOException {
        OptionalLong latest = PolicyDescriptorFiles.latestVersion(announceDirectory);
        if (latest.isPresent() && version <= latest.getAsLong()) {
            throw new IllegalArgumentException("version " + version + " is not above version " + latest.getAsLong()
                    + " already announced in " + announceDirectory + "; versions only move forward");
        }
        PolicyUpdate update = describe(checkpoint, uri, version, step, run);
        try {
            PolicyDescriptorFiles.write(announceDirectory, update);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException("version " + version + " was announced in " + announceDirectory
                    + " meanwhile; versions only move forward", e);
        }
        return update;
    }

    /**
     * The policy update for a checkpoint, after checking that it loads (config and safetensors headers): its
     * absolute {@code file:} URI, the SHA-256 of its weights and the time now.
     */
    public static PolicyUpdate describe(Path checkpoint, long version, Long step, String run) throws IOException {
        return describe(checkpoint, null, version, step, run);
    }

    /**
     * The policy update for a checkpoint, as {@link #describe(Path, long, Long, String)}, naming it by
     * {@code uri} (null: the directory's {@code file:} URI).
     */
    public static PolicyUpdate describe(Path checkpoint, String uri, long version, Long step, String run)
            throws IOException {
        Path directory = checkpoint.toAbsolutePath().normalize();
        ModelConfig.load(directory);
        SafetensorsCheckpoint.open(directory);
        return new PolicyUpdate(version, uri == null ? uri(directory) : uri, CheckpointDigest.weightsSha256(directory),
                step, Instant.now(), run);
    }

    /** The URI that announcements give a checkpoint directory. */
    private static String uri(Path checkpoint) {
        return checkpoint.toAbsolutePath().normalize().toUri().toString();
    }
}
