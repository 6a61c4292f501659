package io.policylong.policy;

import io.policylong.records.InvalidRecordException;
import io.policylong.records.PolicyUpdate;
import io.policylong.records.StrictUtf8;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The file form of a {@link PolicyUpdate}: one JSON descriptor per version, named
 * {@code policy-<version, 12 digits>.json}, in a checkpoints directory that the pipeline watches.
 *
 * <p>Writers create the file under a hidden temporary name in the same directory, force it to disk and link it
 * into place atomically, never over an existing descriptor: a watcher sees either no descriptor or a complete
 * one, and never reads a path twice, so a version once announced keeps its descriptor. Readers accept
 * only descriptor names, bound the size, decode strict UTF-8 and validate the JSON; the version inside must
 * match the file name.
 */
public final class PolicyDescriptorFiles {
    /** Largest descriptor accepted; real ones are a few hundred bytes. */
    public static final int MAX_BYTES = 64 * 1024;

    private static final Pattern NAME = Pattern.compile("policy-(\\d{12,19})\\.json");

    private PolicyDescriptorFiles() {
    }

    /** The descriptor file name of a version. */
    public static String fileName(long version) {
        return String.format("policy-%012d.json", version);
    }

    /** Whether a path has the name of a descriptor (temporary files do not). */
    public static boolean isDescriptor(Path file) {
        return NAME.matcher(file.getFileName().toString()).matches();
    }

    /**
     * The highest version among the descriptor names in a directory (by name; contents are not read), or
     * empty when there is none or the directory does not exist.
     */
    public static OptionalLong latestVersion(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return OptionalLong.empty();
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(p -> NAME.matcher(p.getFileName().toString()))
                    .filter(Matcher::matches)
                    .mapToLong(m -> {
                        try {
                            return Long.parseLong(m.group(1));
                        } catch (NumberFormatException e) {
                            return -1;
                        }
                    })
                    .filter(v -> v >= 0)
                    .max();
        }
    }

    /**
     * Writes the descriptor of an update into a directory, atomically; returns its path.
     *
     * @throws FileAlreadyExistsException when that version already has a descriptor (another announcer claimed
     *     it first)
     */
    public static Path write(Path directory, PolicyUpdate update) throws IOException {
        Files.createDirectories(directory);
        Path target = directory.resolve(fileName(update.version()));
        Path temp = Files.createTempFile(directory, "." + fileName(update.version()) + ".", ".tmp");
        try {
            byte[] bytes = (update.toJson() + "\n").getBytes(StandardCharsets.UTF_8);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            try {
                // A hard link appears atomically, complete, and fails if the name exists: the version is claimed.
                Files.createLink(target, temp);
            } catch (UnsupportedOperationException e) {
                throw new IOException(directory + ": the file system cannot link files, so descriptors could be seen "
                        + "half-written or overwritten; use a local or POSIX file system", e);
            }
            return target;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * Reads and validates a descriptor.
     *
     * @throws InvalidRecordException naming the file and the reason when it is not a valid descriptor
     */
    public static PolicyUpdate read(Path file) throws IOException, InvalidRecordException {
        long size = Files.size(file);
        if (size > MAX_BYTES) {
            throw new InvalidRecordException(file + ": " + size + " bytes, larger than a descriptor can be ("
                    + MAX_BYTES + ")");
        }
        return parse(file.toString(), Files.readAllBytes(file));
    }

    /**
     * Validates a descriptor's bytes; {@code file} is its path (the name must be a descriptor name carrying the
     * same version) and names it in errors.
     */
    public static PolicyUpdate parse(String file, byte[] bytes) throws InvalidRecordException {
        String name = file.substring(file.lastIndexOf('/') + 1);
        Matcher matcher = NAME.matcher(name);
        if (!matcher.matches()) {
            throw new InvalidRecordException(file + ": not a policy descriptor name (policy-<12+ digits>.json)");
        }
        if (bytes.length > MAX_BYTES) {
            throw new InvalidRecordException(file + ": larger than a descriptor can be (" + MAX_BYTES + " bytes)");
        }
        String json;
        try {
            json = StrictUtf8.decode(bytes);
        } catch (CharacterCodingException e) {
            throw new InvalidRecordException(file + ": not valid UTF-8");
        }
        PolicyUpdate update;
        try {
            update = PolicyUpdate.fromJson(json);
        } catch (InvalidRecordException e) {
            throw new InvalidRecordException(file + ": " + e.getMessage(), e);
        }
        long named;
        try {
            named = Long.parseLong(matcher.group(1));
        } catch (NumberFormatException e) {
            throw new InvalidRecordException(file + ": the version in the file name is out of range");
        }
        if (named != update.version()) {
            throw new InvalidRecordException(file + ": the file name says version " + named + " but the descriptor "
                    + "says " + update.version());
        }
        return update;
    }
}
