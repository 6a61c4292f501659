package io.policylong.model.cli;

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
 * invalid bytes is reported (by line number) without losing the lines after it.
 */
public final class Utf8LineReader implements Closeable {
    /** A line: its text, or null with {@code invalid} set when its bytes are not UTF-8. */
    public record Line(int number, String text, boolean invalid) {
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
        while ((b = in.read()) != -1) {
            any = true;
            if (b == '\n') {
                break;
            }
            buffer.write(b);
        }
        if (!any) {
            return null;
        }
        number++;
        byte[] bytes = buffer.toByteArray();
        int length = bytes.length;
        if (length > 0 && bytes[length - 1] == '\r') {
            length--;
        }
        try {
            return new Line(number, decoder.decode(ByteBuffer.wrap(bytes, 0, length)).toString(), false);
        } catch (CharacterCodingException e) {
            return new Line(number, null, true);
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
