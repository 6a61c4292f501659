package io.policylong.pipeline.config;

import java.net.URI;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Locations in the configuration: a path, or a URI of any Flink file system ({@code file:}, {@code s3://},
 * {@code hdfs://}, ...). URIs keep their scheme; paths become {@code file:} URIs.
 */
public final class Locations {
    /** A URI scheme followed by a colon; one letter alone would be a Windows drive, which Flink does not take. */
    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]+:.*");

    private Locations() {
    }

    /** Whether a location is a URI (has a scheme) rather than a path. */
    public static boolean isUri(String location) {
        return SCHEME.matcher(location).matches();
    }

    /** The location as a URI: URIs unchanged, paths made absolute against {@code base}. */
    public static String resolve(String location, Path base) {
        if (isUri(location)) {
            return location;
        }
        return fileUri(base.resolve(location));
    }

    /**
     * The location as a URI, refusing relative paths.
     *
     * @param source the configuration, named in the error
     * @param key the setting, named in the error
     */
    public static String requireAbsolute(String source, String key, String location) {
        if (isUri(location)) {
            if (!isAbsolute(location)) {
                throw new IllegalArgumentException(source + ": " + key + ": '" + location + "' is a relative file: "
                        + "URI; write file:///absolute/path");
            }
            return location;
        }
        Path path = Path.of(location);
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException(source + ": " + key + ": '" + location + "' is a relative path; on a "
                    + "cluster it would resolve against each TaskManager's working directory. Give an absolute path "
                    + "or a URI (file:///..., s3://..., hdfs://...)");
        }
        return fileUri(path);
    }

    /** Whether a location is absolute: a URI of a remote file system, an absolute {@code file:} URI, or path. */
    public static boolean isAbsolute(String location) {
        if (!isUri(location)) {
            return Path.of(location).isAbsolute();
        }
        if (!location.startsWith("file:")) {
            return true;
        }
        try {
            URI uri = URI.create(location);
            return !uri.isOpaque() && uri.getPath() != null && uri.getPath().startsWith("/");
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether a URI names the local file system. */
    public static boolean isLocal(String uri) {
        return !isUri(uri) || uri.startsWith("file:");
    }

    /**
     * The local path of a {@code file:} URI (or of a plain path).
     *
     * @throws IllegalArgumentException for a URI of another file system
     */
    public static Path localPath(String uri) {
        if (!isUri(uri)) {
            return Path.of(uri);
        }
        if (!uri.startsWith("file:")) {
            throw new IllegalArgumentException(uri + " is not on the local file system");
        }
        return Path.of(URI.create(uri));
    }

    private static String fileUri(Path path) {
        // No trailing slash, whether or not the directory exists yet, so that the same path gives the same URI.
        String uri = path.toAbsolutePath().normalize().toUri().toString();
        return uri.endsWith("/") && uri.length() > "file:///".length() ? uri.substring(0, uri.length() - 1) : uri;
    }
}
