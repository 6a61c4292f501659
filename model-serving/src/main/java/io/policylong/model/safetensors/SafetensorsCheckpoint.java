package io.policylong.model.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.model.checkpoint.InvalidCheckpointException;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The weights of a Hugging Face style checkpoint directory: either one {@code model.safetensors} or the
 * shards listed in {@code model.safetensors.index.json}. Every shard header is validated on open; tensors
 * are looked up by name and read one at a time.
 */
public final class SafetensorsCheckpoint {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /** Real index files are tens of KB; the bound keeps a hostile one from exhausting the heap. */
    static final long MAX_INDEX_BYTES = 16L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path directory;
    private final Map<String, SafetensorsFile> tensorToFile;

    private SafetensorsCheckpoint(Path directory, Map<String, SafetensorsFile> tensorToFile) {
        this.directory = directory;
        this.tensorToFile = tensorToFile;
    }

    /** Opens the weights of a checkpoint directory, preferring the shard index when both layouts exist. */
    public static SafetensorsCheckpoint open(Path directory) throws IOException {
        Path index = directory.resolve(INDEX_FILE);
        Path single = directory.resolve(SINGLE_FILE);
        if (Files.isRegularFile(index)) {
            return openSharded(directory, index);
        }
        if (Files.isRegularFile(single)) {
            SafetensorsFile file = SafetensorsFile.open(single);
            Map<String, SafetensorsFile> map = new LinkedHashMap<>();
            for (String name : file.tensors().keySet()) {
                map.put(name, file);
            }
            return new SafetensorsCheckpoint(directory, Collections.unmodifiableMap(map));
        }
        throw new InvalidCheckpointException(directory + ": no " + SINGLE_FILE + " and no " + INDEX_FILE);
    }

    private static SafetensorsCheckpoint openSharded(Path directory, Path index) throws IOException {
        if (Files.size(index) > MAX_INDEX_BYTES) {
            throw new InvalidCheckpointException(index + ": " + Files.size(index) + " bytes, more than an index can "
                    + "plausibly need (" + MAX_INDEX_BYTES + ")");
        }
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new InvalidCheckpointException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new InvalidCheckpointException(index + ": no weight_map object");
        }
        Path base = directory.toAbsolutePath().normalize();
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        Map<String, SafetensorsFile> tensorToFile = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String tensor = entry.getKey();
            if (!entry.getValue().isTextual()) {
                throw new InvalidCheckpointException(index + ": weight_map entry '" + tensor + "' is not a file name");
            }
            String shardName = entry.getValue().asText();
            Path shardPath = base.resolve(shardName).normalize();
            if (!shardPath.startsWith(base) || shardPath.equals(base)) {
                throw new InvalidCheckpointException(index + ": shard '" + shardName + "' of tensor '" + tensor
                        + "' is outside the checkpoint directory");
            }
            SafetensorsFile shard = shards.get(shardName);
            if (shard == null) {
                if (!Files.isRegularFile(shardPath)) {
                    throw new InvalidCheckpointException(index + ": shard '" + shardName + "' of tensor '" + tensor
                            + "' does not exist");
                }
                shard = SafetensorsFile.open(shardPath);
                shards.put(shardName, shard);
            }
            if (!shard.tensors().containsKey(tensor)) {
                throw new InvalidCheckpointException(shardPath + ": tensor '" + tensor + "' is listed in " + INDEX_FILE
                        + " but missing from the shard");
            }
            tensorToFile.put(tensor, shard);
        }
        return new SafetensorsCheckpoint(directory, Collections.unmodifiableMap(tensorToFile));
    }

    /** The checkpoint directory. */
    public Path directory() {
        return directory;
    }

    /** Names of all tensors. */
    public Set<String> tensorNames() {
        return tensorToFile.keySet();
    }

    /** The header entry of a tensor, if present. */
    public Optional<TensorEntry> entry(String name) {
        SafetensorsFile file = tensorToFile.get(name);
        return file == null ? Optional.empty() : Optional.of(file.tensors().get(name));
    }

    /** The file that holds a tensor. */
    public Path fileOf(String name) {
        SafetensorsFile file = tensorToFile.get(name);
        if (file == null) {
            throw new IllegalArgumentException("no tensor " + name + " in " + directory);
        }
        return file.path();
    }

    /** Reads part of a tensor as float32; see {@link SafetensorsFile#readFloat32}. */
    public void readFloat32(String name, long firstElement, int count, FloatBuffer out) throws IOException {
        SafetensorsFile file = tensorToFile.get(name);
        if (file == null) {
            throw new IllegalArgumentException("no tensor " + name + " in " + directory);
        }
        file.readFloat32(file.tensors().get(name), firstElement, count, out);
    }
}
