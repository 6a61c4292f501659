package io.policylong.cli;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads a stream line by line and decodes each line as strict UTF-8 on its own, so that one line with
 * invalid bytes, or one too long to hold, is reported (by line number) without losing the lines after it.
 */
public final class Utf8LineReader implements Closeable {
    /** Longest line read into memory; longer ones are skipped and reported. */
    public static final int MAX_LINE_BYTES = 256 * 1024 * 1024;

    /**
     * A line: its text, or null with a reason ({@code not valid UTF-8}, or too long) when it cannot be used.
     */
    public record Line(int number, String text, String problem) {
        /** Whether the line could not be read as text. */
        public boolean invalid() {
            return problem != null;
        }
    }

    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private int number;

    public Utf8LineReader(InputStream in) {
        this.in = in.markSupported() ? in : new java.io.BufferedInputStream(in, 1 << 16);
    }

    /** The next line without its terminator ({@code \n} or {@code \r\n}), or null at the end. */
    public Line next() throws IOException {
        buffer.reset();
        int b;
        boolean any = false;
        long length = 0;
        while ((b = in.read()) != -1) {
            any = true;
            if (b == '\n') {
                break;
            }
            if (++length <= MAX_LINE_BYTES) {
                buffer.write(b);
            }
        }
        if (!any) {
            return null;
        }
        number++;
        if (length > MAX_LINE_BYTES) {
            return new Line(number, null, "longer than " + MAX_LINE_BYTES + " bytes (" + length + ")");
        }
        byte[] bytes = buffer.toByteArray();
        int size = bytes.length;
        if (size > 0 && bytes[size - 1] == '\r') {
            size--;
        }
        try {
            return new Line(number, decoder.decode(ByteBuffer.wrap(bytes, 0, size)).toString(), null);
        } catch (CharacterCodingException e) {
            return new Line(number, null, "not valid UTF-8");
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
