package io.policylong.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.records.InvalidRecordException;
import io.policylong.records.PolicyUpdate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyDescriptorFilesTest {
    @TempDir
    Path dir;

    private static PolicyUpdate update(long version) {
        // A long run name makes each descriptor large enough that a torn write would be visible.
        return new PolicyUpdate(version, "/checkpoints/step-" + version, "0f".repeat(32), version * 100,
                Instant.parse("2026-11-29T17:00:00Z"), "run-" + "x".repeat(20_000));
    }

    @Test
    void writesAndReadsBack() throws Exception {
        Path file = PolicyDescriptorFiles.write(dir, update(7));
        assertEquals("policy-000000000007.json", file.getFileName().toString());
        assertEquals(update(7), PolicyDescriptorFiles.read(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void latestVersionComesFromTheNames() throws Exception {
        assertEquals(java.util.OptionalLong.empty(), PolicyDescriptorFiles.latestVersion(dir.resolve("absent")));
        PolicyDescriptorFiles.write(dir, update(3));
        PolicyDescriptorFiles.write(dir, update(12));
        Files.writeString(dir.resolve("notes.json"), "{}");
        assertEquals(java.util.OptionalLong.of(12), PolicyDescriptorFiles.latestVersion(dir));
    }

    @Test
    void aConcurrentReaderNeverSeesHalfAFile() throws Exception {
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger seen = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            while (!done.get()) {
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path p : (Iterable<Path>) files::iterator) {
                        if (PolicyDescriptorFiles.isDescriptor(p)) {
                            PolicyUpdate u = PolicyDescriptorFiles.read(p);
                            assertEquals(update(u.version()), u);
                            seen.incrementAndGet();
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }
        });
        reader.start();
        for (long v = 0; v < 200; v++) {
            PolicyDescriptorFiles.write(dir, update(v));
            long again = v;
            // A version once announced is never replaced: the watcher would not read it again.
            assertThrows(java.nio.file.FileAlreadyExistsException.class,
                    () -> PolicyDescriptorFiles.write(dir, update(again)));
        }
        done.set(true);
        reader.join();
        if (failure.get() != null) {
            throw new AssertionError("the reader saw a partial or invalid descriptor", failure.get());
        }
        assertTrue(seen.get() > 0, "the reader read descriptors while they were being written");
    }

    @Test
    void rejectsCorruptPartialAndMisnamedDescriptors() throws Exception {
        Path partial = dir.resolve(PolicyDescriptorFiles.fileName(3));
        String full = update(3).toJson();
        Files.writeString(partial, full.substring(0, full.length() / 2));
        assertRejected(partial, "not valid JSON");

        Path wrongVersion = dir.resolve(PolicyDescriptorFiles.fileName(4));
        Files.writeString(wrongVersion, update(5).toJson());
        assertRejected(wrongVersion, "the file name says version 4 but the descriptor says 5");

        Path binary = dir.resolve(PolicyDescriptorFiles.fileName(6));
        Files.write(binary, new byte[] {'{', (byte) 0xFF, '}'});
        assertRejected(binary, "not valid UTF-8");

        Path huge = dir.resolve(PolicyDescriptorFiles.fileName(8));
        Files.writeString(huge, " ".repeat(PolicyDescriptorFiles.MAX_BYTES + 1));
        assertRejected(huge, "larger than a descriptor can be");

        Path missingUri = dir.resolve(PolicyDescriptorFiles.fileName(9));
        Files.writeString(missingUri, "{\"version\": 9}");
        assertRejected(missingUri, "missing \"uri\"");

        Path temp = dir.resolve(".policy-000000000010.json.123.tmp");
        Files.writeString(temp, "{");
        assertFalse(PolicyDescriptorFiles.isDescriptor(temp));
        assertRejected(temp, "not a policy descriptor name");
    }

    private static void assertRejected(Path file, String reason) {
        InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> PolicyDescriptorFiles.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(reason), "expected '" + reason + "' in: " + e.getMessage());
    }
}
