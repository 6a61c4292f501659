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
    void concurrentAnnouncersEachClaimTheirOwnVersion() throws Exception {
        Path ckpt = checkpoint("shared");
        Path directory = temp.resolve("checkpoints");
        int perAnnouncer = 8;
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        java.util.List<java.util.concurrent.Future<java.util.List<Long>>> runs = new java.util.ArrayList<>();
        try {
            for (String run : java.util.List.of("a", "b")) {
                runs.add(pool.submit(() -> {
                    start.await();
                    CheckpointAnnouncer announcer = new CheckpointAnnouncer(directory, run);
                    java.util.List<Long> versions = new java.util.ArrayList<>();
                    for (long step = 0; step < perAnnouncer; step++) {
                        versions.add(announcer.announceNext(ckpt, step).version());
                    }
                    return versions;
                }));
            }
            start.countDown();
            java.util.Set<Long> claimed = new java.util.TreeSet<>();
            for (var r : runs) {
                claimed.addAll(r.get());
            }
            assertEquals(2 * perAnnouncer, claimed.size(), "every announcement has its own version: " + claimed);
            for (long v : claimed) {
                PolicyUpdate written = PolicyDescriptorFiles.read(directory.resolve(PolicyDescriptorFiles.fileName(v)));
                assertEquals(v, written.version());
            }
            long[] runsSeen = claimed.stream().mapToLong(v -> {
                try {
                    return PolicyDescriptorFiles.read(directory.resolve(PolicyDescriptorFiles.fileName(v))).run()
                            .equals("a") ? 1 : 0;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).toArray();
            assertEquals(perAnnouncer, java.util.Arrays.stream(runsSeen).sum(), "none overwritten by the other");
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void anAnnouncedVersionIsNeverOverwritten() throws Exception {
        Path ckpt = checkpoint("once");
        Path directory = temp.resolve("checkpoints");
        new CheckpointAnnouncer(directory, "a").announce(ckpt, 4, null);
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> PolicyDescriptorFiles.write(directory,
                CheckpointAnnouncer.describe(ckpt, 4, null, "b")));
        assertEquals("a", PolicyDescriptorFiles.read(directory.resolve(PolicyDescriptorFiles.fileName(4))).run());
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
