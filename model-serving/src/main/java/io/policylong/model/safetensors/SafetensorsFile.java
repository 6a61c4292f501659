package io.policylong.model.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.policylong.model.checkpoint.InvalidCheckpointException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated safetensors file: the header is parsed and checked when the file is opened, tensors are read
 * later one at a time through memory maps with 64-bit offsets, so files beyond 2 GiB work and no tensor is
 * ever copied whole onto the Java heap.
 *
 * <p>Validation rejects, with a message naming the file and tensor: a header length that is implausible or
 * runs past the end of the file, a header that is not a JSON object of tensor descriptions, unknown dtypes,
 * negative dimensions, offsets outside the data section, overlapping another tensor or leaving bytes that
 * belong to no tensor, and byte lengths that differ from shape times element size.
 */
public final class SafetensorsFile {
    /**
     * Upper bound on the JSON header. Real headers are well under 1 MB (about 150 bytes per tensor); the bound
     * keeps a hostile header from exhausting the heap while it is parsed.
     */
    public static final long MAX_HEADER_BYTES = 32L * 1024 * 1024;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path path;
    private final long dataStart;
    private final long dataLength;
    private final Map<String, TensorEntry> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, long dataStart, long dataLength, Map<String, TensorEntry> tensors,
            Map<String, String> metadata) {
        this.path = path;
        this.dataStart = dataStart;
        this.dataLength = dataLength;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates the file's header. */
    public static SafetensorsFile open(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw invalid(path, "file is " + fileSize + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0, path);
            long headerLength = lengthBytes.getLong(0);
            if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES) {
                throw invalid(path, "header length " + Long.toUnsignedString(headerLength)
                        + " is outside 1.." + MAX_HEADER_BYTES);
            }
            if (headerLength > fileSize - 8) {
                throw invalid(path, "header length " + headerLength + " runs past the end of the file ("
                        + fileSize + " bytes)");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(channel, headerBytes, 8, path);
            headerBytes.flip();
            String header;
            try {
                header = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(headerBytes).toString();
            } catch (CharacterCodingException e) {
                throw invalid(path, "header is not valid UTF-8");
            }
            long dataStart = 8 + headerLength;
            return parseHeader(path, header, dataStart, fileSize - dataStart);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path path)
            throws IOException {
        long pos = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, pos);
            if (n < 0) {
                throw invalid(path, "unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    private static SafetensorsFile parseHeader(Path path, String header, long dataStart, long dataLength)
            throws InvalidCheckpointException {
        JsonNode root;
        try (JsonParser parser = JSON.createParser(header)) {
            root = JSON.readTree(parser);
            if (parser.nextToken() != null) {
                throw invalid(path, "header has trailing content after the JSON object");
            }
        } catch (JsonProcessingException e) {
            throw invalid(path, "header is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw invalid(path, "header could not be parsed: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw invalid(path, "header is not a JSON object");
        }
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            if (name.equals("__metadata__")) {
                metadata = parseMetadata(path, field.getValue());
                continue;
            }
            tensors.put(name, parseTensor(path, name, field.getValue(), dataLength));
        }
        checkLayout(path, tensors, dataLength);
        return new SafetensorsFile(path, dataStart, dataLength, Collections.unmodifiableMap(tensors), metadata);
    }

    private static Map<String, String> parseMetadata(Path path, JsonNode node) throws InvalidCheckpointException {
        if (!node.isObject()) {
            throw invalid(path, "__metadata__ is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw invalid(path, "__metadata__ value '" + e.getKey() + "' is not a string");
            }
            metadata.put(e.getKey(), e.getValue().asText());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static TensorEntry parseTensor(Path path, String name, JsonNode node, long dataLength)
            throws InvalidCheckpointException {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw invalid(path, where + " is not a JSON object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw invalid(path, where + " has no dtype string");
        }
        SafetensorsDType dtype = SafetensorsDType.fromHeaderName(dtypeNode.asText())
                .orElseThrow(() -> invalid(path, where + " has unknown dtype '" + dtypeNode.asText() + "'"));
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw invalid(path, where + " has no shape array");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw invalid(path, where + " has an invalid dimension " + d + " in its shape");
            }
            shape[i] = d.asLong();
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw invalid(path, where + " has no data_offsets pair");
        }
        for (JsonNode o : offsets) {
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.asLong() < 0) {
                throw invalid(path, where + " has an invalid data offset " + o);
            }
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (end < begin) {
            throw invalid(path, where + " ends (" + end + ") before it begins (" + begin + ")");
        }
        if (end > dataLength) {
            throw invalid(path, where + " data [" + begin + ", " + end + ") lies outside the data section of "
                    + dataLength + " bytes (truncated file?)");
        }
        long expectedBytes;
        try {
            long elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            expectedBytes = Math.multiplyExact(elements, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw invalid(path, where + " shape overflows a 64-bit byte count");
        }
        if (expectedBytes != end - begin) {
            throw invalid(path, where + " has " + (end - begin) + " bytes but its shape and dtype need "
                    + expectedBytes);
        }
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    /**
     * Tensors must tile the data section exactly, as the format requires: sorted by offset, each starts where
     * the previous one ends, the first at 0 and the last at the end of the file. Overlaps would let two tensors
     * share bytes; gaps and trailing bytes are data no tensor accounts for.
     */
    private static void checkLayout(Path path, Map<String, TensorEntry> tensors, long dataLength)
            throws InvalidCheckpointException {
        List<TensorEntry> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
        long expected = 0;
        TensorEntry previous = null;
        for (TensorEntry current : sorted) {
            if (current.begin() < expected) {
                throw invalid(path, "tensor '" + current.name() + "' data [" + current.begin() + ", " + current.end()
                        + ") overlaps tensor '" + previous.name() + "' [" + previous.begin() + ", " + previous.end()
                        + ")");
            }
            if (current.begin() > expected) {
                throw invalid(path, "bytes [" + expected + ", " + current.begin() + ") before tensor '" + current.name()
                        + "' belong to no tensor");
            }
            expected = current.end();
            previous = current;
        }
        if (expected != dataLength) {
            throw invalid(path, "the data section has " + (dataLength - expected) + " trailing bytes that belong to "
                    + "no tensor");
        }
    }

    /** The file this header was read from. */
    public Path path() {
        return path;
    }

    /** Tensors in header order. */
    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    /** The optional {@code __metadata__} string map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Size of the data section in bytes. */
    public long dataLength() {
        return dataLength;
    }

    /**
     * Reads {@code count} elements of a tensor, starting at element {@code firstElement}, converted to
     * float32, into {@code out} at its position. Only F32, F16 and BF16 tensors can be read this way.
     */
    public void readFloat32(TensorEntry tensor, long firstElement, int count, FloatBuffer out) throws IOException {
        if (!tensor.equals(tensors.get(tensor.name()))) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " is not from " + path);
        }
        SafetensorsDType dtype = tensor.dtype();
        if (!dtype.isConvertibleToFloat32()) {
            throw invalid(path, "tensor '" + tensor.name() + "' has dtype " + dtype
                    + ", but model weights must be F32, F16 or BF16");
        }
        if (firstElement < 0 || count < 0 || firstElement + count > tensor.elementCount()) {
            throw new IndexOutOfBoundsException("elements [" + firstElement + ", " + (firstElement + count)
                    + ") of tensor " + tensor.name() + " with " + tensor.elementCount() + " elements");
        }
        if (out.remaining() < count) {
            throw new IllegalArgumentException("output buffer has room for " + out.remaining() + " of " + count);
        }
        long position = dataStart + tensor.begin() + firstElement * dtype.byteSize();
        long length = (long) count * dtype.byteSize();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            if (channel.size() < position + length) {
                throw invalid(path, "tensor '" + tensor.name() + "' lies past the end of the file, which is now "
                        + channel.size() + " bytes (was it truncated after opening?)");
            }
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, position, length);
            mapped.order(ByteOrder.LITTLE_ENDIAN);
            convert(dtype, mapped, count, out);
        } catch (InternalError e) {
            // The JDK reports a page fault on a mapped file that shrank underneath us this way.
            throw invalid(path, "tensor '" + tensor.name() + "' could not be read: " + e.getMessage());
        }
    }

    private static void convert(SafetensorsDType dtype, ByteBuffer in, int count, FloatBuffer out) {
        switch (dtype) {
            case F32 -> {
                FloatBuffer floats = in.asFloatBuffer();
                floats.limit(count);
                out.put(floats);
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out.put(HalfFloats.f16ToFloat(in.getShort(2 * i)));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out.put(HalfFloats.bf16ToFloat(in.getShort(2 * i)));
                }
            }
            default -> throw new IllegalStateException("unreachable: " + dtype);
        }
    }

    static InvalidCheckpointException invalid(Path path, String reason) {
        return new InvalidCheckpointException(path + ": " + reason);
    }
}
