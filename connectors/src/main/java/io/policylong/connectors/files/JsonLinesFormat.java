package io.policylong.connectors.files;

import io.policylong.records.StrictUtf8;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.RecordAndPosition;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.Path;

/**
 * Reads text files line by line for Flink's file source, each line decoded as strict UTF-8 on its own and
 * tagged with its file and line number, so that a bad line becomes a reportable record instead of a silently
 * replaced one or a failed job. The reader's position is the number of lines consumed, so a restored job
 * resumes exactly after the last line it had emitted.
 */
public final class JsonLinesFormat implements BulkFormat<SourceLine, FileSourceSplit> {
    private static final long serialVersionUID = 1L;
    private static final int BATCH = 64;

    private final int maxLineBytes;

    /** @param maxLineBytes longer lines are reported as too long (and skipped) instead of being held */
    public JsonLinesFormat(int maxLineBytes) {
        this.maxLineBytes = maxLineBytes;
    }

    @Override
    public Reader<SourceLine> createReader(Configuration config, FileSourceSplit split) throws IOException {
        return new LineReader(split, 0);
    }

    @Override
    public Reader<SourceLine> restoreReader(Configuration config, FileSourceSplit split) throws IOException {
        long consumed = split.getReaderPosition().map(CheckpointedPosition::getRecordsAfterOffset).orElse(0L);
        return new LineReader(split, consumed);
    }

    @Override
    public boolean isSplittable() {
        return false;
    }

    @Override
    public TypeInformation<SourceLine> getProducedType() {
        return TypeInformation.of(SourceLine.class);
    }

    private final class LineReader implements Reader<SourceLine> {
        private final Path path;
        private final InputStream in;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private long lines;
        private boolean ended;

        LineReader(FileSourceSplit split, long skip) throws IOException {
            this.path = split.path();
            FSDataInputStream stream = path.getFileSystem().open(path);
            this.in = new BufferedInputStream(stream, 1 << 16);
            while (lines < skip && !ended) {
                readLine(false);
            }
        }

        @Override
        public RecordIterator<SourceLine> readBatch() throws IOException {
            SourceLine[] records = new SourceLine[BATCH];
            long[] consumed = new long[BATCH];
            int n = 0;
            while (n < BATCH && !ended) {
                SourceLine line = readLine(true);
                if (line != null) {
                    records[n] = line;
                    // Lines consumed up to and including this record (blank lines before it included): what a
                    // restored reader skips to resume right after it.
                    consumed[n] = lines;
                    n++;
                }
            }
            return n == 0 ? null : new Batch(records, consumed, n);
        }

        /** Reads one line; returns it (null for a blank line or when not wanted), or sets {@code ended}. */
        private SourceLine readLine(boolean wanted) throws IOException {
            buffer.reset();
            long length = 0;
            int b;
            boolean any = false;
            while ((b = in.read()) != -1) {
                any = true;
                if (b == '\n') {
                    break;
                }
                if (++length <= maxLineBytes) {
                    buffer.write(b);
                }
            }
            if (!any) {
                ended = true;
                return null;
            }
            if (b == -1) {
                ended = true;
            }
            lines++;
            if (!wanted) {
                return null;
            }
            String origin = path.getPath() + ":" + lines;
            if (length > maxLineBytes) {
                return new SourceLine(origin, null, "line longer than " + maxLineBytes + " bytes (" + length + ")");
            }
            byte[] bytes = buffer.toByteArray();
            int size = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
            try {
                String text = StrictUtf8.decode(bytes, 0, size);
                return text.isBlank() ? null : new SourceLine(origin, text, null);
            } catch (CharacterCodingException e) {
                return new SourceLine(origin, null, "not valid UTF-8");
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** One batch of lines with their resume positions. */
    private static final class Batch implements RecordIterator<SourceLine> {
        private final SourceLine[] records;
        private final long[] consumed;
        private final int size;
        private int next;

        Batch(SourceLine[] records, long[] consumed, int size) {
            this.records = records;
            this.consumed = consumed;
            this.size = size;
        }

        @Override
        public RecordAndPosition<SourceLine> next() {
            if (next >= size) {
                return null;
            }
            RecordAndPosition<SourceLine> r = new RecordAndPosition<>(records[next], CheckpointedPosition.NO_OFFSET,
                    consumed[next]);
            next++;
            return r;
        }

        @Override
        public void releaseBatch() {
        }
    }
}
