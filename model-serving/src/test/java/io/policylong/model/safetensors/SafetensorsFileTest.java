package io.policylong.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.model.checkpoint.InvalidCheckpointException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Reading and validating safetensors files, including hostile ones. */
class SafetensorsFileTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = SafetensorsDType.class, names = {"F32", "F16", "BF16"})
    void writesAndReadsEveryFloatType(SafetensorsDType dtype) throws IOException {
        float[] values = {0f, 1f, -2.5f, 3.140625f, 1e-3f, -65504f};
        Path file = dir.resolve("t.safetensors");
        SafetensorsWriter.write(file, List.of(new SafetensorsWriter.Tensor("w", new long[] {2, 3}, values),
                new SafetensorsWriter.Tensor("b", new long[] {1}, new float[] {7f})), dtype, Map.of("format", "pt"));
        SafetensorsFile st = SafetensorsFile.open(file);
        assertEquals(Map.of("format", "pt"), st.metadata());
        TensorEntry w = st.tensors().get("w");
        assertEquals(dtype, w.dtype());
        assertArrayEquals(new long[] {2, 3}, w.shape());
        FloatBuffer out = FloatBuffer.allocate(6);
        st.readFloat32(w, 0, 6, out);
        for (int i = 0; i < values.length; i++) {
            float expected = switch (dtype) {
                case F16 -> HalfFloats.f16ToFloat(HalfFloats.floatToF16(values[i]));
                case BF16 -> HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(values[i]));
                default -> values[i];
            };
            assertEquals(expected, out.get(i), "element " + i);
        }
        FloatBuffer part = FloatBuffer.allocate(2);
        st.readFloat32(w, 3, 2, part);
        assertEquals(out.get(3), part.get(0));
        assertEquals(out.get(4), part.get(1));
    }

    @Test
    void readsShardedCheckpoints() throws IOException {
        List<SafetensorsWriter.Tensor> tensors = List.of(
                new SafetensorsWriter.Tensor("a", new long[] {4}, new float[] {1, 2, 3, 4}),
                new SafetensorsWriter.Tensor("b", new long[] {4}, new float[] {5, 6, 7, 8}),
                new SafetensorsWriter.Tensor("c", new long[] {2}, new float[] {9, 10}));
        List<Path> shards = SafetensorsWriter.writeSharded(dir, tensors, SafetensorsDType.F32, 16);
        assertEquals(3, shards.size());
        SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir);
        assertEquals(java.util.Set.of("a", "b", "c"), checkpoint.tensorNames());
        FloatBuffer out = FloatBuffer.allocate(2);
        checkpoint.readFloat32("c", 0, 2, out);
        assertEquals(10f, out.get(1));
        assertEquals(shards.get(1), checkpoint.fileOf("b"));
    }

    @Test
    void readsTensorsBeyondTwoGibibyteOffsets() throws IOException {
        // A sparse file: a small tensor placed after 2.5 GiB of zero padding, addressed with 64-bit offsets.
        long padding = 2_684_354_560L;
        String header = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + padding + "],\"data_offsets\":[0," + padding + "]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + padding + "," + (padding + 8) + "]}}";
        Path file = dir.resolve("big.safetensors");
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length);
            raf.write(prefix.array());
            raf.write(json);
            raf.seek(8 + json.length + padding);
            ByteBuffer data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-4f);
            raf.write(data.array());
        }
        SafetensorsFile st = SafetensorsFile.open(file);
        FloatBuffer out = FloatBuffer.allocate(2);
        st.readFloat32(st.tensors().get("w"), 0, 2, out);
        assertEquals(1.5f, out.get(0));
        assertEquals(-4f, out.get(1));
    }

    @Test
    void rejectsTruncatedFile() throws IOException {
        Path file = validFile();
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        assertRejected(file, "outside the data section");
    }

    @Test
    void rejectsFileShorterThanTheLengthPrefix() throws IOException {
        Path file = dir.resolve("tiny.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertRejected(file, "shorter than the 8-byte header length");
    }

    @Test
    void rejectsHeaderLengthPastTheEnd() throws IOException {
        Path file = dir.resolve("h.safetensors");
        ByteBuffer b = ByteBuffer.allocate(8 + 2).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).put((byte) '{')
                .put((byte) '}');
        Files.write(file, b.array());
        assertRejected(file, "runs past the end of the file");
    }

    @Test
    void rejectsHugeHeaderLengthWithoutAllocating() throws IOException {
        Path file = dir.resolve("huge.safetensors");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).array());
        assertRejected(file, "header length");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
        assertRejected(file, "header length");
    }

    @Test
    void rejectsOverlappingOffsets() throws IOException {
        Path file = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertRejected(file, "overlaps tensor 'a'");
    }

    @Test
    void rejectsUnknownDtype() throws IOException {
        Path file = raw("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16);
        assertRejected(file, "unknown dtype 'F128'");
    }

    @Test
    void rejectsBytesThatBelongToNoTensor() throws IOException {
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                "bytes [0, 4) before tensor 'a' belong to no tensor");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12),
                "8 trailing bytes");
    }

    @Test
    void dtypeNamesAreExact() throws IOException {
        assertRejected(raw("{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "unknown dtype 'f32'");
    }

    @Test
    void rejectsByteLengthThatDisagreesWithShape() throws IOException {
        Path file = raw("{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        assertRejected(file, "has 8 bytes but its shape and dtype need 6");
    }

    @Test
    void rejectsShapeThatOverflows() throws IOException {
        Path file = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8);
        assertRejected(file, "overflows");
    }

    @Test
    void rejectsNegativeDimensionsAndBadOffsets() throws IOException {
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "invalid dimension");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8), "before it begins");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "no data_offsets");
    }

    @Test
    void rejectsHeadersThatAreNotJsonObjects() throws IOException {
        assertRejected(raw("[1,2,3]", 0), "not a JSON object");
        assertRejected(raw("{\"a\": ", 0), "not valid JSON");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "not valid JSON");
    }

    @Test
    void rejectsReadingIntegerTensorsAsWeights() throws IOException {
        Path file = raw("{\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        SafetensorsFile st = SafetensorsFile.open(file);
        InvalidCheckpointException e = assertThrows(InvalidCheckpointException.class,
                () -> st.readFloat32(st.tensors().get("a"), 0, 1, FloatBuffer.allocate(1)));
        assertTrue(e.getMessage().contains("must be F32, F16 or BF16"), e.getMessage());
    }

    @Test
    void shardIndexErrorsNameTheProblem() throws IOException {
        SafetensorsWriter.write(dir.resolve("model-00001-of-00001.safetensors"),
                List.of(new SafetensorsWriter.Tensor("a", new long[] {1}, new float[] {1})), SafetensorsDType.F32, null);
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE),
                "{\"weight_map\":{\"a\":\"model-00001-of-00001.safetensors\",\"b\":\"model-00001-of-00001.safetensors\"}}");
        InvalidCheckpointException missing = assertThrows(InvalidCheckpointException.class,
                () -> SafetensorsCheckpoint.open(dir));
        assertTrue(missing.getMessage().contains("tensor 'b' is listed"), missing.getMessage());
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "{\"weight_map\":{\"a\":\"../escape.safetensors\"}}");
        InvalidCheckpointException escape = assertThrows(InvalidCheckpointException.class,
                () -> SafetensorsCheckpoint.open(dir));
        assertTrue(escape.getMessage().contains("outside the checkpoint directory"), escape.getMessage());
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "{\"weight_map\":{\"a\":\"nope.safetensors\"}}");
        InvalidCheckpointException absent = assertThrows(InvalidCheckpointException.class,
                () -> SafetensorsCheckpoint.open(dir));
        assertTrue(absent.getMessage().contains("does not exist"), absent.getMessage());
    }

    @Test
    void emptyDirectoryIsNotACheckpoint() {
        InvalidCheckpointException e = assertThrows(InvalidCheckpointException.class,
                () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("no model.safetensors"), e.getMessage());
    }

    private Path validFile() throws IOException {
        Path file = dir.resolve("valid.safetensors");
        SafetensorsWriter.write(file, List.of(new SafetensorsWriter.Tensor("w", new long[] {4},
                new float[] {1, 2, 3, 4})), SafetensorsDType.F32, null);
        return file;
    }

    /** A file with the given header and {@code dataBytes} zero bytes of data. */
    private Path raw(String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Path file = Files.createTempFile(dir, "raw", ".safetensors");
        Files.write(file, b.array());
        return file;
    }

    private static void assertRejected(Path file, String reason) {
        InvalidCheckpointException e = assertThrows(InvalidCheckpointException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(reason), "says why (" + reason + "): " + e.getMessage());
    }
}
