package io.policylong.cli.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.policylong.pipeline.config.PipelineConfig;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What the embedded runner remembers in its Flink checkpoint directory ({@value #FILE}): the settings of the
 * job whose checkpoints are there and the ids of its runs. With it, {@code run} resumes from the newest
 * retained checkpoint or savepoint of the same job after a crash or a stop, instead of reading its input again
 * and committing every sample a second time, and refuses to resume a job whose configuration has changed.
 */
public final class RunHistory {
    /** The file in the checkpoint directory. */
    public static final String FILE = "policylong-run.json";
    /** Settings that do not change what the job computes or holds in state. */
    private static final Set<String> IRRELEVANT = Set.of("runtime.webUi.address", "runtime.webUi.port",
            "runtime.webUi.cancel", "runtime.summaryInterval");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path directory;
    private final Map<String, String> settings;
    private final List<String> jobs;

    private RunHistory(Path directory, Map<String, String> settings, List<String> jobs) {
        this.directory = directory;
        this.settings = settings;
        this.jobs = jobs;
    }

    /** The history of a checkpoint directory (empty when there is none). */
    public static RunHistory open(Path checkpointDirectory) throws IOException {
        Path file = checkpointDirectory.resolve(FILE);
        Map<String, String> settings = new LinkedHashMap<>();
        List<String> jobs = new ArrayList<>();
        if (Files.isRegularFile(file)) {
            JsonNode root = JSON.readTree(file.toFile());
            for (Iterator<Map.Entry<String, JsonNode>> it = root.path("settings").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                settings.put(e.getKey(), e.getValue().asText());
            }
            root.path("jobs").forEach(j -> jobs.add(j.asText()));
        }
        return new RunHistory(checkpointDirectory, settings, jobs);
    }

    /** The settings of a configuration that identify its job, flattened ({@code screening.alpha} and so on). */
    public static Map<String, String> settingsOf(PipelineConfig config) {
        Map<String, String> flat = new LinkedHashMap<>();
        flatten("", config, flat);
        IRRELEVANT.forEach(flat::remove);
        return flat;
    }

    private static void flatten(String prefix, Object value, Map<String, String> into) {
        if (value != null && value.getClass().isRecord()) {
            for (RecordComponent c : value.getClass().getRecordComponents()) {
                try {
                    flatten(prefix + c.getName() + ".", c.getAccessor().invoke(value), into);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        } else {
            into.put(prefix.substring(0, prefix.length() - 1), String.valueOf(value));
        }
    }

    /** Whether an earlier run left its settings here. */
    public boolean hasJob() {
        return !settings.isEmpty();
    }

    /** The settings that differ from the recorded ones, as {@code key: recorded -> now}. */
    public List<String> changes(Map<String, String> now) {
        List<String> changes = new ArrayList<>();
        Set<String> keys = new TreeSet<>(settings.keySet());
        keys.addAll(now.keySet());
        for (String key : keys) {
            String before = settings.get(key);
            String after = now.get(key);
            if (before == null ? after != null : !before.equals(after)) {
                changes.add(key + ": " + before + " -> " + after);
            }
        }
        return changes;
    }

    /**
     * The newest completed checkpoint or savepoint of this history's runs: a {@code chk-<n>} directory of one of
     * its job ids, or a savepoint taken from one, holding a {@code _metadata} file.
     */
    public Optional<Path> newestRestorePoint() throws IOException {
        List<Path> candidates = new ArrayList<>();
        for (String job : jobs) {
            Path jobDirectory = directory.resolve(job);
            if (Files.isDirectory(jobDirectory)) {
                try (Stream<Path> checkpoints = Files.list(jobDirectory)) {
                    checkpoints.filter(p -> p.getFileName().toString().startsWith("chk-")).forEach(candidates::add);
                }
            }
        }
        Path savepoints = directory.resolve("savepoints");
        if (Files.isDirectory(savepoints)) {
            try (Stream<Path> taken = Files.list(savepoints)) {
                // Savepoint directories are named savepoint-<first six characters of the job id>-<random>.
                taken.filter(p -> jobs.stream().anyMatch(j -> p.getFileName().toString().startsWith("savepoint-"
                        + j.substring(0, 6) + "-"))).forEach(candidates::add);
            }
        }
        return candidates.stream().filter(p -> Files.isRegularFile(p.resolve("_metadata")))
                .max(Comparator.comparing(RunHistory::completedAt));
    }

    private static FileTime completedAt(Path point) {
        try {
            return Files.getLastModifiedTime(point.resolve("_metadata"));
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    /**
     * Records a run of a job with these settings. A run with other settings (started anew) replaces the history,
     * so that its predecessor's checkpoints are never resumed by mistake.
     */
    public void record(Map<String, String> now, String jobId) throws IOException {
        if (!changes(now).isEmpty()) {
            settings.clear();
            jobs.clear();
        }
        settings.putAll(now);
        jobs.add(jobId);
        ObjectNode root = JSON.createObjectNode();
        ObjectNode s = root.putObject("settings");
        settings.forEach(s::put);
        ArrayNode j = root.putArray("jobs");
        jobs.forEach(j::add);
        Files.createDirectories(directory);
        Path temp = Files.createTempFile(directory, "." + FILE, ".tmp");
        JSON.writerWithDefaultPrettyPrinter().writeValue(temp.toFile(), root);
        Files.move(temp, directory.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Forgets the recorded runs (a fresh start): their checkpoints stay on disk but are never resumed. */
    public void forget() {
        settings.clear();
        jobs.clear();
    }
}
