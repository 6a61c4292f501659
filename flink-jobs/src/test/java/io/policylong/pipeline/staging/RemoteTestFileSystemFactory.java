package io.policylong.pipeline.staging;

import java.net.URI;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystemFactory;
import org.apache.flink.core.fs.local.LocalFileSystem;

/**
 * A file system for tests that stands for a remote one ({@code s3://}, {@code hdfs://}, which cannot run here):
 * {@code remote-test:///some/path} reads the local {@code /some/path}, but its scheme is not {@code file:}, so
 * the job treats it as remote and stages copies of what it names.
 */
public final class RemoteTestFileSystemFactory implements FileSystemFactory {
    /** The scheme. */
    public static final String SCHEME = "remote-test";

    /** The remote-test URI of a local path. */
    public static String uri(java.nio.file.Path path) {
        return SCHEME + "://" + path.toAbsolutePath().normalize();
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public FileSystem create(URI fsUri) {
        return LocalFileSystem.getSharedInstance();
    }
}
