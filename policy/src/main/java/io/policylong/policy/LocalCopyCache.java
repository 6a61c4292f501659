package io.policylong.policy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
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
import java.util.stream.Stream;

/**
 * Local copies of remote directories (checkpoints, indexes), one directory per key under a root. A copy is
 * filled under a hidden temporary name and renamed into place atomically, so a process that crashes mid-copy
 * leaves nothing that could be loaded, and several processes sharing the root (TaskManagers on one host) never
 * see a partial copy: whoever renames first wins and the others use that copy. The cache keeps the
 * {@code maxEntries} most recently used copies and removes older ones; leftovers of crashed copies are removed
 * once they are an hour old.
 */
public final class LocalCopyCache {
    private static final Duration ABANDONED = Duration.ofHours(1);
    private static final String PARTIAL = ".partial";

    /** Fills an empty directory with the copy. */
    @FunctionalInterface
    public interface Filler {
        void fill(Path emptyDirectory) throws IOException;
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
        if (!key.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("not a cache key: '" + key + "'");
        }
        Path target = root.resolve(key);
        synchronized (locks.computeIfAbsent(key, k -> new Object())) {
            if (!Files.isDirectory(target)) {
                Files.createDirectories(root);
                Path partial = Files.createTempDirectory(root, "." + key + ".");
                Path marked = partial.resolveSibling(partial.getFileName() + PARTIAL);
                Files.move(partial, marked);
                try {
                    filler.fill(marked);
                    install(marked, target);
                } finally {
                    deleteTree(marked);
                }
            }
            Files.setLastModifiedTime(target, FileTime.from(Instant.now()));
        }
        evict(target);
        return target;
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
        try (Stream<Path> entries = Files.list(root)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                String name = p.getFileName().toString();
                if (name.startsWith(".")) {
                    if (name.endsWith(PARTIAL) && modified(p).isBefore(abandoned)) {
                        deleteTree(p);
                    }
                } else if (Files.isDirectory(p)) {
                    copies.add(p);
                }
            }
        }
        copies.sort(Comparator.comparing(LocalCopyCache::modified).reversed());
        for (int i = maxEntries; i < copies.size(); i++) {
            if (!copies.get(i).equals(keep)) {
                deleteTree(copies.get(i));
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
