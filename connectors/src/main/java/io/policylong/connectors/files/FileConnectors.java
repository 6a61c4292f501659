package io.policylong.connectors.files;

import java.time.Duration;
import java.util.regex.Pattern;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.enumerate.FileEnumerator;
import org.apache.flink.connector.file.src.enumerate.NonSplittingRecursiveEnumerator;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;

/** The file sources and sinks of the embedded pipeline. */
public final class FileConnectors {
    private static final Pattern DESCRIPTOR = Pattern.compile("policy-\\d{12,19}\\.json");

    private FileConnectors() {
    }

    /**
     * JSONL lines of a file or of every {@code *.jsonl} file under a directory; with a watch interval, new
     * files in the directory are picked up as they appear (files must be complete when they appear: write
     * them elsewhere and move them in).
     */
    public static FileSource<SourceLine> jsonLines(Path path, Duration watchInterval, int maxLineBytes) {
        FileSource.FileSourceBuilder<SourceLine> builder = FileSource
                .forBulkFileFormat(new JsonLinesFormat(maxLineBytes), path)
                .setFileEnumerator(() -> missingIsEmpty(new NonSplittingRecursiveEnumerator(
                        p -> !hidden(p) && (isDirectory(p) || p.getName().endsWith(".jsonl")))));
        if (watchInterval != null) {
            builder.monitorContinuously(watchInterval);
        }
        return builder.build();
    }

    /** The policy descriptors ({@code policy-<version>.json}) of a checkpoints directory, watched for new ones. */
    public static FileSource<SmallFile> policyDescriptors(Path directory, Duration watchInterval, int maxBytes) {
        return FileSource.forBulkFileFormat(new SmallFileFormat(maxBytes), directory)
                .setFileEnumerator(() -> new NonSplittingRecursiveEnumerator(
                        p -> isDirectory(p) || DESCRIPTOR.matcher(p.getName()).matches()))
                // Oldest version first when one listing finds several.
                .setSplitAssigner(NameOrderedSplitAssigner::new)
                .monitorContinuously(watchInterval)
                .build();
    }

    /**
     * A JSONL sink: part files named {@code <prefix>-<subtask>-<n>.jsonl} in a directory, rolled on every Flink
     * checkpoint and committed only when the checkpoint completes, so the committed files hold each record
     * exactly once across failures and restarts. Files still in progress are hidden ({@code .} prefix).
     */
    public static FileSink<String> jsonLinesSink(Path directory, String prefix) {
        return FileSink.forRowFormat(directory, new SimpleStringEncoder<String>("UTF-8"))
                .withBucketAssigner(new BasePathBucketAssigner<>())
                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix(prefix).withPartSuffix(".jsonl").build())
                .build();
    }

    /**
     * A watched directory that does not exist yet (an output directory read back before the first commit, say)
     * holds no files yet, rather than failing the source.
     */
    private static FileEnumerator missingIsEmpty(FileEnumerator enumerator) {
        return (paths, minDesiredSplits) -> {
            try {
                return enumerator.enumerateSplits(paths, minDesiredSplits);
            } catch (java.io.FileNotFoundException e) {
                return java.util.List.of();
            }
        };
    }

    private static boolean hidden(Path p) {
        String name = p.getName();
        return name.startsWith(".") || name.startsWith("_");
    }

    /** The enumerator asks the filter about directories too: they must pass for their files to be listed. */
    private static boolean isDirectory(Path p) {
        try {
            return p.getFileSystem().getFileStatus(p).isDir();
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
