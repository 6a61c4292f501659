package io.policylong.policy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Local copies of remote directories (checkpoints, indexes), one directory per key under a root. A copy is
 * filled under a hidden temporary name and renamed into place atomically, so a process that crashes mid-copy
 * leaves nothing that could be loaded, and several processes sharing the root (TaskManagers on one host) never
 * see a partial copy: whoever renames first wins and the others use that copy. Files are forced to disk before
 * the rename. The cache keeps the {@code maxEntries} most recently used copies and removes older ones, renaming
 * each away before deleting it; leftovers of crashed copies are removed once they are a day old, of crashed
 * removals at once.
 */
public final class LocalCopyCache {
    private static final Duration ABANDONED = Duration.ofDays(1);
    private static final String PARTIAL = ".partial";
    private static final String EVICTED = ".evicted";

    /** Fills an empty directory with the copy. */
    @FunctionalInterface
    public interface Filler {
        void fill(Path emptyDirectory) throws IOException;
    }

    /** Checks a copy already in the cache before it is handed out; a copy that fails is removed and filled again. */
    @FunctionalInterface
    public interface Check {
        void verify(Path copy) throws IOException;
    }

    private final Path root;
    private final int maxEntries;
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    /**
     * @param root the cache directory (created when missing)
     * @param maxEntries copies kept
     */
    public LocalCopyCache(Path root, int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("the cache must keep at least one copy");
        }
        this.root = root.toAbsolutePath().normalize();
        this.maxEntries = maxEntries;
    }

    /** The cache directory. */
    public Path root() {
        return root;
    }

    /**
     * The copy for a key, filled by {@code filler} when it is not cached yet. A filler that fails leaves no
     * copy behind, and the failure is thrown.
     *
     * @param key a file name: letters, digits, {@code .}, {@code _} and {@code -}
     */
    public Path obtain(String key, Filler filler) throws IOException {
        return obtain(key, filler, copy -> { });
    }

    /**
     * As {@link #obtain(String, Filler)}; a copy found in the cache is first checked with {@code check}, and
     * when the check fails (a damaged or tampered copy) it is removed and filled again, so a bad copy never
     * stays in use.
     */
    public Path obtain(String key, Filler filler, Check check) throws IOException {
        if (!key.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("not a cache key: '" + key + "'");
        }
        Path target = root.resolve(key);
        synchronized (locks.computeIfAbsent(key, k -> new Object())) {
            if (Files.isDirectory(target)) {
                try {
                    check.verify(target);
                } catch (IOException e) {
                    remove(target);
                }
            }
            if (!Files.isDirectory(target)) {
                Files.createDirectories(root);
                Path partial = root.resolve("." + key + "." + UUID.randomUUID() + PARTIAL);
                Files.createDirectory(partial);
                try {
                    filler.fill(partial);
                    syncTree(partial);
                    install(partial, target);
                } finally {
                    deleteTree(partial);
                }
            }
            try {
                Files.setLastModifiedTime(target, FileTime.from(Instant.now()));
            } catch (NoSuchFileException e) {
                // Evicted by another process the moment it was installed: fill it again.
                return obtain(key, filler, check);
            }
        }
        evict(target);
        return target;
    }

    /** Forces every file of a filled copy to disk, so a host crash after the rename cannot leave it half-written. */
    private static void syncTree(Path directory) throws IOException {
        try (Stream<Path> walk = Files.walk(directory)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (Files.isRegularFile(p)) {
                    try (FileChannel channel = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        channel.force(true);
                    }
                }
            }
        }
    }

    /**
     * Takes a copy out of the cache: renamed away atomically first, so it is never seen under its name while
     * half deleted (by this process after a crash, or by another one meanwhile), then deleted.
     */
    private void remove(Path copy) throws IOException {
        Path away = root.resolve("." + copy.getFileName() + "." + UUID.randomUUID() + EVICTED);
        try {
            Files.move(copy, away, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return;
        }
        deleteTree(away);
    }

    private static void install(Path filled, Path target) throws IOException {
        try {
            Files.move(filled, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException(target.getParent() + ": the cache directory's file system cannot rename "
                    + "atomically; use a local directory", e);
        } catch (FileSystemException e) {
            // Renaming onto a directory that exists fails (ENOTEMPTY, EEXIST): another process installed the same
            // copy first, so use that one. Anything else is a real failure.
            if (!Files.isDirectory(target)) {
                throw e;
            }
        }
    }

    /** Removes the least recently used copies beyond the limit (never {@code keep}) and abandoned partial copies. */
    private void evict(Path keep) throws IOException {
        List<Path> copies = new ArrayList<>();
        Instant abandoned = Instant.now().minus(ABANDONED);
        Map<Path, Instant> used = new java.util.HashMap<>();
        try (Stream<Path> entries = Files.list(root)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                String name = p.getFileName().toString();
                if (name.startsWith(".")) {
                    // Leftovers of a crash: evictions half done, or copies abandoned long ago.
                    if (name.endsWith(EVICTED) || name.endsWith(PARTIAL) && modified(p).isBefore(abandoned)) {
                        deleteTree(p);
                    }
                } else if (Files.isDirectory(p)) {
                    copies.add(p);
                    used.put(p, modified(p));
                }
            }
        }
        copies.sort(Comparator.comparing(used::get).reversed());
        for (int i = maxEntries; i < copies.size(); i++) {
            if (!copies.get(i).equals(keep)) {
                remove(copies.get(i));
            }
        }
    }

    private static Instant modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toInstant();
        } catch (IOException e) {
            return Instant.EPOCH;
        }
    }

    /** Deletes a directory tree; what is already gone (another process removed it) is not an error. */
    static void deleteTree(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(directory)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException | java.nio.file.NoSuchFileException e) {
            // Removed concurrently.
        }
    }
}
