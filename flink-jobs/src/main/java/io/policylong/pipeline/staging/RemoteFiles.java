package io.policylong.pipeline.staging;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;

/**
 * Copies a directory (recursively) or a {@code .zip} archive (extracted) from any Flink file system into a
 * local directory. Names inside archives are checked so that nothing is written outside the target.
 */
final class RemoteFiles {
    private RemoteFiles() {
    }

    /**
     * What identifies the current content of a remote file or directory without reading it: its size and
     * modification time (for a directory, those of every file in it).
     */
    static String identity(String uri) throws IOException {
        org.apache.flink.core.fs.Path source = new org.apache.flink.core.fs.Path(uri);
        FileSystem fs = source.getFileSystem();
        if (!fs.exists(source)) {
            throw new IOException(uri + " does not exist");
        }
        StringBuilder id = new StringBuilder();
        describe(fs, fs.getFileStatus(source), id);
        return id.toString();
    }

    private static void describe(FileSystem fs, FileStatus status, StringBuilder id) throws IOException {
        if (status.isDir()) {
            FileStatus[] entries = fs.listStatus(status.getPath());
            java.util.Arrays.sort(entries, java.util.Comparator.comparing(s -> s.getPath().getName()));
            for (FileStatus entry : entries) {
                describe(fs, entry, id);
            }
        } else {
            id.append(status.getPath().getName()).append(':').append(status.getLen()).append(':')
                    .append(status.getModificationTime()).append(';');
        }
    }

    /** Copies what {@code uri} names into the empty local directory {@code target}. */
    static void copyInto(String uri, Path target) throws IOException {
        org.apache.flink.core.fs.Path source = new org.apache.flink.core.fs.Path(uri);
        FileSystem fs = source.getFileSystem();
        if (!fs.exists(source)) {
            throw new IOException(uri + " does not exist");
        }
        FileStatus status = fs.getFileStatus(source);
        if (status.isDir()) {
            copyDirectory(fs, source, target);
        } else if (source.getName().endsWith(".zip")) {
            try (InputStream in = fs.open(source)) {
                extractZip(uri, in, target);
            }
        } else {
            throw new IOException(uri + " is neither a directory nor a .zip archive");
        }
    }

    private static void copyDirectory(FileSystem fs, org.apache.flink.core.fs.Path source, Path target)
            throws IOException {
        FileStatus[] entries = fs.listStatus(source);
        if (entries == null) {
            return;
        }
        for (FileStatus entry : entries) {
            String name = entry.getPath().getName();
            Path local = target.resolve(name);
            if (entry.isDir()) {
                Files.createDirectories(local);
                copyDirectory(fs, entry.getPath(), local);
            } else {
                try (InputStream in = fs.open(entry.getPath()); OutputStream out = Files.newOutputStream(local)) {
                    in.transferTo(out);
                }
            }
        }
    }

    private static void extractZip(String uri, InputStream in, Path target) throws IOException {
        Path root = target.toAbsolutePath().normalize();
        try (ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                Path local = root.resolve(entry.getName()).normalize();
                if (!local.startsWith(root)) {
                    throw new IOException(uri + ": archive entry '" + entry.getName() + "' points outside the archive");
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(local);
                } else {
                    Files.createDirectories(local.getParent());
                    try (OutputStream out = Files.newOutputStream(local)) {
                        zip.transferTo(out);
                    }
                }
            }
        }
    }
}
