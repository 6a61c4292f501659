package io.policylong.model.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes float tensors as safetensors files (F32, F16 or BF16 on disk), single or sharded with the
 * Hugging Face index file. Values are encoded with round-to-nearest-even.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int IO_CHUNK_ELEMENTS = 1 << 20;

    private SafetensorsWriter() {
    }

    /**
     * A tensor to write.
     *
     * @param name tensor name
     * @param shape dimensions
     * @param values row-major float32 values; their count must match the shape
     */
    public record Tensor(String name, long[] shape, float[] values) {
        public Tensor {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            if (n != values.length) {
                throw new IllegalArgumentException("tensor " + name + ": shape needs " + n + " values, got "
                        + values.length);
            }
            shape = shape.clone();
        }
    }

    /** Writes one safetensors file. */
    public static void write(Path file, List<Tensor> tensors, SafetensorsDType dtype, Map<String, String> metadata)
            throws IOException {
        if (!(dtype == SafetensorsDType.F32 || dtype == SafetensorsDType.F16 || dtype == SafetensorsDType.BF16)) {
            throw new IllegalArgumentException("can only write F32, F16 or BF16, not " + dtype);
        }
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode node = header.putObject(t.name());
            node.put("dtype", dtype.name());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long bytes = (long) t.values().length * dtype.byteSize();
            node.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] headerJson = JSON.writeValueAsBytes(header);
        // Pad the header with spaces to a multiple of 8 so the data section is aligned, as the format allows.
        int padded = (headerJson.length + 7) / 8 * 8;
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded);
        prefix.put(headerJson);
        while (prefix.hasRemaining()) {
            prefix.put((byte) ' ');
        }
        prefix.flip();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(channel, prefix);
            ByteBuffer chunk = ByteBuffer.allocateDirect(IO_CHUNK_ELEMENTS * dtype.byteSize())
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors) {
                float[] values = t.values();
                for (int start = 0; start < values.length; start += IO_CHUNK_ELEMENTS) {
                    int end = Math.min(values.length, start + IO_CHUNK_ELEMENTS);
                    chunk.clear();
                    for (int i = start; i < end; i++) {
                        switch (dtype) {
                            case F32 -> chunk.putFloat(values[i]);
                            case F16 -> chunk.putShort(HalfFloats.floatToF16(values[i]));
                            default -> chunk.putShort(HalfFloats.floatToBf16(values[i]));
                        }
                    }
                    chunk.flip();
                    writeFully(channel, chunk);
                }
            }
        }
    }

    /**
     * Writes the tensors as shards of at most {@code maxShardBytes} each (a tensor larger than that gets a
     * shard of its own) plus {@code model.safetensors.index.json}. Returns the shard paths.
     */
    public static List<Path> writeSharded(Path directory, List<Tensor> tensors, SafetensorsDType dtype,
            long maxShardBytes) throws IOException {
        List<List<Tensor>> shards = new ArrayList<>();
        List<Tensor> current = new ArrayList<>();
        long currentBytes = 0;
        long totalBytes = 0;
        for (Tensor t : tensors) {
            long bytes = (long) t.values().length * dtype.byteSize();
            totalBytes += bytes;
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(t);
            currentBytes += bytes;
        }
        if (!current.isEmpty()) {
            shards.add(current);
        }
        Files.createDirectories(directory);
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", totalBytes);
        ObjectNode weightMap = index.putObject("weight_map");
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            Path path = directory.resolve(name);
            write(path, shards.get(i), dtype, Map.of("format", "pt"));
            for (Tensor t : shards.get(i)) {
                weightMap.put(t.name(), name);
            }
            paths.add(path);
        }
        Files.write(directory.resolve(SafetensorsCheckpoint.INDEX_FILE),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index).getBytes(StandardCharsets.UTF_8));
        return paths;
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
