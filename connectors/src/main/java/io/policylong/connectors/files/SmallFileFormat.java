package io.policylong.connectors.files;

import java.io.IOException;
import java.io.InputStream;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.RecordAndPosition;
import org.apache.flink.core.fs.Path;

/**
 * Reads each file whole as one record, for small files such as policy descriptors. Files larger than the
 * limit are not read; their record carries the reason instead.
 */
public final class SmallFileFormat implements BulkFormat<SmallFile, FileSourceSplit> {
    private static final long serialVersionUID = 1L;

    private final int maxBytes;

    public SmallFileFormat(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    @Override
    public Reader<SmallFile> createReader(Configuration config, FileSourceSplit split) {
        return new FileReader(split.path(), false);
    }

    @Override
    public Reader<SmallFile> restoreReader(Configuration config, FileSourceSplit split) {
        boolean done = split.getReaderPosition().map(p -> p.getRecordsAfterOffset() > 0).orElse(false);
        return new FileReader(split.path(), done);
    }

    @Override
    public boolean isSplittable() {
        return false;
    }

    @Override
    public TypeInformation<SmallFile> getProducedType() {
        return TypeInformation.of(SmallFile.class);
    }

    private final class FileReader implements Reader<SmallFile> {
        private final Path path;
        private boolean done;

        FileReader(Path path, boolean done) {
            this.path = path;
            this.done = done;
        }

        @Override
        public RecordIterator<SmallFile> readBatch() throws IOException {
            if (done) {
                return null;
            }
            done = true;
            SmallFile file = read();
            return new RecordIterator<>() {
                private boolean given;

                @Override
                public RecordAndPosition<SmallFile> next() {
                    if (given) {
                        return null;
                    }
                    given = true;
                    return new RecordAndPosition<>(file, CheckpointedPosition.NO_OFFSET, 1);
                }

                @Override
                public void releaseBatch() {
                }
            };
        }

        private SmallFile read() throws IOException {
            long size = path.getFileSystem().getFileStatus(path).getLen();
            if (size > maxBytes) {
                return new SmallFile(path.getPath(), null, size + " bytes, more than the " + maxBytes + " allowed");
            }
            try (InputStream in = path.getFileSystem().open(path)) {
                return new SmallFile(path.getPath(), in.readNBytes(maxBytes + 1), null);
            }
        }

        @Override
        public void close() {
        }
    }
}
