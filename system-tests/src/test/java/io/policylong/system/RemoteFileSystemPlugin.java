package io.policylong.system;

import io.policylong.pipeline.staging.RemoteTestFileSystemFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/**
 * A jar holding only the tests' stand-in for a remote file system ({@code remote-test://}, see
 * {@link RemoteTestFileSystemFactory}), for the test cluster's classpath: Flink finds file systems there
 * through their service file, as it finds {@code s3://} in a plugin.
 */
final class RemoteFileSystemPlugin {
    private RemoteFileSystemPlugin() {
    }

    static Path write(Path jar) throws IOException {
        String classFile = RemoteTestFileSystemFactory.class.getName().replace('.', '/') + ".class";
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream zip = new JarOutputStream(out);
                InputStream bytes = RemoteTestFileSystemFactory.class.getClassLoader().getResourceAsStream(classFile)) {
            if (bytes == null) {
                throw new IOException(classFile + " is not on the test classpath");
            }
            zip.putNextEntry(new JarEntry(classFile));
            bytes.transferTo(zip);
            zip.closeEntry();
            zip.putNextEntry(new JarEntry("META-INF/services/org.apache.flink.core.fs.FileSystemFactory"));
            zip.write((RemoteTestFileSystemFactory.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        return jar;
    }
}
