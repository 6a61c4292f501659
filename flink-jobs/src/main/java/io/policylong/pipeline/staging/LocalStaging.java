package io.policylong.pipeline.staging;

import io.policylong.pipeline.config.Locations;
import io.policylong.policy.CheckpointDigest;
import io.policylong.policy.LocalCopyCache;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Makes checkpoints and retrieval indexes local to this TaskManager. A location on the local file system is
 * used in place; one on any other Flink file system ({@code s3://}, {@code hdfs://}) is copied once into a
 * local cache shared by every slot of the TaskManager (see {@link LocalCopyCache}). A checkpoint's weights are
 * checked against the announced sha256 on the files that will be loaded: a copy that does not match is never
 * installed, and a local directory changed since its announcement is refused.
 */
public final class LocalStaging {
    private static final Map<Path, LocalStaging> BY_ROOT = new HashMap<>();

    private final LocalCopyCache checkpoints;
    private final LocalCopyCache indexes;

    private LocalStaging(Path root, int cachedCheckpoints) {
        this.checkpoints = new LocalCopyCache(root.resolve("checkpoints"), cachedCheckpoints);
        this.indexes = new LocalCopyCache(root.resolve("indexes"), 2);
    }

    /**
     * The staging of this JVM for a cache directory.
     *
     * @param cacheDirectory a local directory URI or path, or null for {@code <java.io.tmpdir>/policylong-cache}
     * @param cachedCheckpoints checkpoint copies kept
     */
    public static synchronized LocalStaging forCache(String cacheDirectory, int cachedCheckpoints) {
        Path root = (cacheDirectory == null ? Path.of(System.getProperty("java.io.tmpdir"), "policylong-cache")
                : Locations.localPath(cacheDirectory)).toAbsolutePath().normalize();
        return BY_ROOT.computeIfAbsent(root, r -> new LocalStaging(r, cachedCheckpoints));
    }

    /**
     * The local directory of a policy's checkpoint, with its weights verified against {@code sha256} (when
     * given). Blocks while copying and hashing.
     */
    public Path checkpoint(long version, String uri, String sha256) throws IOException {
        if (Locations.isLocal(uri)) {
            Path directory = Locations.localPath(uri);
            if (sha256 != null) {
                CheckpointDigest.verify(directory, sha256);
            }
            return directory;
        }
        String key = "policy-" + version + "-" + shortHash(uri + "\n" + sha256);
        LocalCopyCache.Check verified = copy -> {
            if (sha256 != null) {
                CheckpointDigest.verify(copy, sha256);
            }
        };
        // Verified when copied, and again on the cached files at every load (a damaged copy is fetched anew).
        return checkpoints.obtain(key, target -> {
            RemoteFiles.copyInto(uri, target);
            verified.verify(target);
        }, verified);
    }

    /** The local directory of a retrieval index (a directory, or a {@code .zip} of one, when remote). */
    public Path index(String uri) throws IOException {
        if (Locations.isLocal(uri)) {
            return Locations.localPath(uri);
        }
        // Keyed by the remote index's size and modification time too: an index rebuilt under the same URI is
        // fetched again.
        Path copy = indexes.obtain("index-" + shortHash(uri + "\n" + RemoteFiles.identity(uri)),
                target -> RemoteFiles.copyInto(uri, target));
        return singleDirectoryInside(copy);
    }

    /** An archive of one top-level directory holds the index inside it. */
    private static Path singleDirectoryInside(Path copy) throws IOException {
        try (var entries = Files.list(copy)) {
            var all = entries.toList();
            if (all.size() == 1 && Files.isDirectory(all.get(0))) {
                return all.get(0);
            }
        }
        return copy;
    }

    private static String shortHash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
