package io.policylong.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Local copies installed atomically, once per key, bounded in number. */
class LocalCopyCacheTest {
    @TempDir
    Path root;

    private static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aCopyIsFilledOnceAndReused() throws Exception {
        LocalCopyCache cache = new LocalCopyCache(root, 3);
        AtomicInteger fills = new AtomicInteger();
        LocalCopyCache.Filler filler = dir -> {
            fills.incrementAndGet();
            Files.writeString(dir.resolve("weights"), "w");
        };
        Path first = cache.obtain("a", filler);
        Path second = cache.obtain("a", filler);
        assertEquals(first, second);
        assertEquals(1, fills.get());
        assertEquals("w", Files.readString(first.resolve("weights")));
        assertEquals(List.of("a"), entries(root), "no temporary directory is left behind");
    }

    @Test
    void aFailedCopyLeavesNothingAndIsTriedAgain() throws Exception {
        LocalCopyCache cache = new LocalCopyCache(root, 3);
        IOException failure = assertThrows(IOException.class, () -> cache.obtain("a", dir -> {
            Files.writeString(dir.resolve("half"), "h");
            throw new IOException("connection reset");
        }));
        assertEquals("connection reset", failure.getMessage());
        assertEquals(List.of(), entries(root), "no copy and no partial copy");
        Path copy = cache.obtain("a", dir -> Files.writeString(dir.resolve("whole"), "w"));
        assertEquals(List.of("whole"), entries(copy));
    }

    @Test
    void aCopyInstalledByAnotherProcessFirstIsUsed() throws Exception {
        LocalCopyCache cache = new LocalCopyCache(root, 3);
        Path theirs = root.resolve("a");
        Path copy = cache.obtain("a", dir -> {
            Files.writeString(dir.resolve("mine"), "m");
            // Another process renames its copy into place while this one is still filling.
            Files.createDirectories(theirs);
            Files.writeString(theirs.resolve("theirs"), "t");
        });
        assertEquals(theirs, copy);
        assertEquals(List.of("theirs"), entries(copy));
        assertEquals(List.of("a"), entries(root));
    }

    @Test
    void onlyTheMostRecentlyUsedCopiesAreKept() throws Exception {
        LocalCopyCache cache = new LocalCopyCache(root, 2);
        long t = Instant.now().minusSeconds(100).toEpochMilli();
        for (String key : List.of("v1", "v2", "v3")) {
            Path copy = cache.obtain(key, dir -> Files.writeString(dir.resolve("x"), key));
            Files.setLastModifiedTime(copy, FileTime.fromMillis(t += 1000));
        }
        assertEquals(List.of("v2", "v3"), entries(root));
        // Using v2 again makes it the most recent, so v3 is the one removed when v4 arrives.
        cache.obtain("v2", dir -> { });
        cache.obtain("v4", dir -> Files.writeString(dir.resolve("x"), "v4"));
        assertEquals(List.of("v2", "v4"), entries(root));
    }

    @Test
    void abandonedPartialCopiesAreRemoved() throws Exception {
        Path abandoned = Files.createDirectories(root.resolve(".a.123.partial"));
        Files.setLastModifiedTime(abandoned, FileTime.from(Instant.now().minusSeconds(2 * 86_400)));
        Path recent = Files.createDirectories(root.resolve(".b.456.partial"));
        new LocalCopyCache(root, 2).obtain("c", dir -> { });
        assertFalse(Files.exists(abandoned));
        assertTrue(Files.exists(recent), "a copy still in progress elsewhere is left alone");
    }

    @Test
    void aCopyThatFailsItsCheckIsReplaced() throws Exception {
        LocalCopyCache cache = new LocalCopyCache(root, 2);
        AtomicInteger fills = new AtomicInteger();
        LocalCopyCache.Filler filler = dir -> {
            fills.incrementAndGet();
            Files.writeString(dir.resolve("weights"), "good");
        };
        LocalCopyCache.Check check = copy -> {
            if (!Files.readString(copy.resolve("weights")).equals("good")) {
                throw new IOException("damaged");
            }
        };
        Path copy = cache.obtain("a", filler, check);
        Files.writeString(copy.resolve("weights"), "bad");
        assertEquals(copy, cache.obtain("a", filler, check));
        assertEquals("good", Files.readString(copy.resolve("weights")), "filled again");
        assertEquals(2, fills.get());
        assertEquals(List.of("a"), entries(root), "the damaged copy is gone, not left under another name");
    }

    @Test
    void aRemovalCutShortByACrashIsFinished() throws Exception {
        Path halfRemoved = Files.createDirectories(root.resolve(".old.42.evicted"));
        Files.writeString(halfRemoved.resolve("weights"), "w");
        new LocalCopyCache(root, 2).obtain("c", dir -> { });
        assertFalse(Files.exists(halfRemoved));
        assertEquals(List.of("c"), entries(root));
    }

    @Test
    void concurrentRequestsShareOneCopy() throws Exception {
        LocalCopyCache cache = new LocalCopyCache(root, 2);
        AtomicInteger fills = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Path>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return cache.obtain("a", dir -> {
                        fills.incrementAndGet();
                        Files.writeString(dir.resolve("x"), "x");
                    });
                }));
            }
            start.countDown();
            for (Future<Path> r : results) {
                assertEquals(root.resolve("a"), r.get());
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(1, fills.get());
    }

    @Test
    void keysMustBeFileNames() {
        LocalCopyCache cache = new LocalCopyCache(root, 2);
        assertThrows(IllegalArgumentException.class, () -> cache.obtain("../escape", dir -> { }));
        assertThrows(IllegalArgumentException.class, () -> cache.obtain(".hidden", dir -> { }));
    }
}
