package io.policylong.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Reads a trainer's output directory into its {@link TrainerCurriculum}: {@code train_log.jsonl} (losses),
 * {@code sample_versions.jsonl} (versions of the rows of each step) and the {@code trainer_state.json} of its
 * checkpoints (which step announced which version). Before its first announcement the trainer holds the initial
 * checkpoint, version {@code initialVersion}.
 */
public final class TrainerLogs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainerLogs() {
    }

    /** The trainer's curriculum from its output directory. */
    public static TrainerCurriculum read(Path trainerDirectory, long initialVersion) throws IOException {
        Map<Long, double[]> losses = new TreeMap<>();
        for (JsonNode line : lines(trainerDirectory.resolve("train_log.jsonl"))) {
            losses.put(line.path("step").asLong(), new double[] {line.path("train_loss").asDouble(Double.NaN),
                line.path("held_out_loss").asDouble(Double.NaN), line.path("held_out_sample_loss").asDouble(Double.NaN)});
        }
        Map<Long, Map<Long, Long>> versions = new TreeMap<>();
        for (JsonNode line : lines(trainerDirectory.resolve("sample_versions.jsonl"))) {
            Map<Long, Long> rows = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = line.path("versions").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                rows.put(Long.parseLong(e.getKey()), e.getValue().asLong());
            }
            versions.put(line.path("step").asLong(), rows);
        }
        TreeMap<Long, Long> announcedAt = new TreeMap<>();
        if (Files.isDirectory(trainerDirectory)) {
            try (Stream<Path> dirs = Files.list(trainerDirectory)) {
                for (Path dir : dirs.filter(d -> d.getFileName().toString().startsWith("step-")).toList()) {
                    Path state = dir.resolve("trainer_state.json");
                    if (Files.isRegularFile(state)) {
                        JsonNode node = JSON.readTree(state.toFile());
                        if (node.path("version").asLong(-1) >= 0) {
                            announcedAt.put(node.path("step").asLong(), node.path("version").asLong());
                        }
                    }
                }
            }
        }
        TreeMap<Long, Boolean> steps = new TreeMap<>();
        losses.keySet().forEach(s -> steps.put(s, true));
        versions.keySet().forEach(s -> steps.put(s, true));
        List<TrainerCurriculum.Step> result = new ArrayList<>();
        double stalenessSum = 0;
        long rowsAll = 0;
        for (long step : steps.keySet()) {
            Map.Entry<Long, Long> before = announcedAt.lowerEntry(step);
            long newest = before == null ? initialVersion : Math.max(initialVersion, before.getValue());
            Map<Long, Long> rows = versions.getOrDefault(step, Map.of());
            long count = 0;
            double versionSum = 0;
            for (Map.Entry<Long, Long> e : rows.entrySet()) {
                count += e.getValue();
                versionSum += (double) e.getKey() * e.getValue();
                stalenessSum += (double) (newest - e.getKey()) * e.getValue();
            }
            rowsAll += count;
            double[] loss = losses.getOrDefault(step, new double[] {Double.NaN, Double.NaN, Double.NaN});
            result.add(new TrainerCurriculum.Step(step, loss[0], loss[1], loss[2], newest, count,
                    count == 0 ? Double.NaN : versionSum / count));
        }
        return new TrainerCurriculum(result, rowsAll == 0 ? Double.NaN : stalenessSum / rowsAll);
    }

    private static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> nodes = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return nodes;
        }
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                nodes.add(JSON.readTree(line));
            }
        }
        return nodes;
    }
}
