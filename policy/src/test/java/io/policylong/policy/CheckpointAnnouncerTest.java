package io.policylong.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.records.PolicyUpdate;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointAnnouncerTest {
    @TempDir
    Path temp;

    /** A real checkpoint to announce: a copy of the bundled model. */
    private Path checkpoint(String name) throws IOException {
        Path bundled = Path.of(System.getProperty("policylong.root", "..")).resolve("models/byte-lm-4m");
        Path copy = Files.createDirectories(temp.resolve(name));
        try (Stream<Path> files = Files.list(bundled)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        return copy;
    }

    @Test
    void versionsOnlyMoveForward() throws Exception {
        Path ckpt = checkpoint("a");
        CheckpointAnnouncer announcer = new CheckpointAnnouncer(temp.resolve("checkpoints"), "test");
        assertEquals(0, announcer.announceNext(ckpt, 10L).version());
        assertEquals(1, announcer.announceNext(ckpt, 20L).version());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> announcer.announce(ckpt, 1, 30L));
        assertTrue(e.getMessage().contains("versions only move forward"), e.getMessage());
    }

    @Test
    void aCheckpointOnObjectStorageIsNamedByItsUriAndDigestedFromALocalCopy() throws Exception {
        Path local = checkpoint("local-copy");
        PolicyUpdate update = new CheckpointAnnouncer(temp.resolve("checkpoints"), "test")
                .announce(local, "s3://models/run-a/step-1200", 3, 1200L);
        assertEquals("s3://models/run-a/step-1200", update.uri());
        assertEquals(CheckpointDigest.weightsSha256(local), update.sha256());
        assertEquals(update, PolicyDescriptorFiles.read(temp.resolve("checkpoints")
                .resolve(PolicyDescriptorFiles.fileName(3))));
    }

    @Test
    void anInitialCheckpointIsAnnouncedAgainOnlyWhenItsWeightsChanged() throws Exception {
        Path initial = checkpoint("initial");
        Path dir = temp.resolve("checkpoints");
        CheckpointAnnouncer announcer = new CheckpointAnnouncer(dir, "initial");

        PolicyUpdate first = announcer.announceUnlessCurrent(initial).orElseThrow();
        assertEquals(0, first.version());
        assertEquals(Optional.empty(), announcer.announceUnlessCurrent(initial), "the same weights: nothing to do");

        // The directory is updated in place (a newer bundled model): version 0 no longer matches its weights.
        try (RandomAccessFile weights = new RandomAccessFile(initial.resolve("model.safetensors").toFile(), "rw")) {
            weights.seek(weights.length() - 1);
            int last = weights.read();
            weights.seek(weights.length() - 1);
            weights.write(last ^ 1);
        }
        PolicyUpdate second = announcer.announceUnlessCurrent(initial).orElseThrow();
        assertEquals(1, second.version());
        assertEquals(first.uri(), second.uri());
        assertNotEquals(first.sha256(), second.sha256());
        assertEquals(second, PolicyDescriptorFiles.read(dir.resolve(PolicyDescriptorFiles.fileName(1))));

        // A trainer announced another checkpoint since: that is what the pipeline follows, so it stands.
        new CheckpointAnnouncer(dir, "trainer").announceNext(checkpoint("trained"), 100L);
        assertEquals(Optional.empty(), announcer.announceUnlessCurrent(initial));
        assertEquals(2, PolicyDescriptorFiles.latestVersion(dir).getAsLong());
    }
}
