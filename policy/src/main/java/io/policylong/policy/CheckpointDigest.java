package io.policylong.policy;

import io.policylong.model.checkpoint.InvalidCheckpointException;
import io.policylong.model.safetensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/**
 * The SHA-256 that identifies a checkpoint's weights in a policy announcement. For a single
 * {@code model.safetensors} it is that file's plain SHA-256 (what {@code sha256sum} prints); for a sharded
 * checkpoint it is the SHA-256 of the index file followed by every shard it names, in file name order.
 */
public final class CheckpointDigest {
    private CheckpointDigest() {
    }

    /** The weights digest of a checkpoint directory, as 64 lowercase hex digits. */
    public static String weightsSha256(Path directory) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        for (Path file : weightFiles(directory)) {
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buffer = new byte[1 << 20];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    digest.update(buffer, 0, n);
                }
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * Checks that a checkpoint directory's weights have the announced digest.
     *
     * @throws InvalidCheckpointException naming the directory and both digests when they differ
     */
    public static void verify(Path directory, String expectedSha256) throws IOException {
        String actual = weightsSha256(directory);
        if (!actual.equals(expectedSha256)) {
            throw new InvalidCheckpointException(directory + ": weights sha256 is " + actual + ", not the announced "
                    + expectedSha256);
        }
    }

    private static List<Path> weightFiles(Path directory) throws IOException {
        Path index = directory.resolve(SafetensorsCheckpoint.INDEX_FILE);
        if (Files.isRegularFile(index)) {
            SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(directory);
            TreeSet<Path> shards = new TreeSet<>();
            for (String name : checkpoint.tensorNames()) {
                shards.add(checkpoint.fileOf(name));
            }
            List<Path> files = new ArrayList<>();
            files.add(index);
            files.addAll(shards);
            return files;
        }
        Path single = directory.resolve(SafetensorsCheckpoint.SINGLE_FILE);
        if (!Files.isRegularFile(single)) {
            throw new InvalidCheckpointException(directory + ": no " + SafetensorsCheckpoint.SINGLE_FILE + " and no "
                    + SafetensorsCheckpoint.INDEX_FILE);
        }
        return List.of(single);
    }
}
