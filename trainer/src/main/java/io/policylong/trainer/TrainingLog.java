package io.policylong.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Progress of a run in two machine-readable forms, appended as the run goes ({@code train_log.csv} and
 * {@code train_log.jsonl} in the output directory), and, when training on the job's samples, the policy versions of
 * each step's rows ({@code sample_versions.jsonl}); a continued run appends to the same files.
 */
public final class TrainingLog implements Closeable {
    private static final String HEADER = "step,tokens,train_loss,held_out_loss,learning_rate,grad_norm,tokens_per_second,"
            + "model_gflops_per_second,elapsed_seconds,held_out_sample_loss";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One logged step. The held-out losses (on held-out text, and on held-out samples when training on samples) are
     * NaN between checkpoints and when there is nothing held out.
     */
    public record Entry(long step, long tokens, double trainLoss, double heldOutLoss, double heldOutSampleLoss,
            double learningRate, double gradNorm, double tokensPerSecond, double modelGflopsPerSecond,
            double elapsedSeconds) {
    }

    private final BufferedWriter csv;
    private final BufferedWriter jsonl;
    private final Path directory;
    private BufferedWriter versions;

    public TrainingLog(Path directory) throws IOException {
        Files.createDirectories(directory);
        this.directory = directory;
        Path csvFile = directory.resolve("train_log.csv");
        boolean fresh = !Files.exists(csvFile);
        csv = Files.newBufferedWriter(csvFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        jsonl = Files.newBufferedWriter(directory.resolve("train_log.jsonl"), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (fresh) {
            csv.write(HEADER);
            csv.newLine();
        }
    }

    /** Appends an entry to both files and flushes them. */
    public void append(Entry e) throws IOException {
        csv.write(String.format(Locale.ROOT, "%d,%d,%.5f,%s,%.6g,%.4f,%.1f,%.3f,%.1f,%s", e.step(), e.tokens(),
                e.trainLoss(), optional(e.heldOutLoss()), e.learningRate(), e.gradNorm(), e.tokensPerSecond(),
                e.modelGflopsPerSecond(), e.elapsedSeconds(), optional(e.heldOutSampleLoss())));
        csv.newLine();
        ObjectNode node = JSON.createObjectNode();
        node.put("step", e.step());
        node.put("tokens", e.tokens());
        node.put("train_loss", e.trainLoss());
        if (!Double.isNaN(e.heldOutLoss())) {
            node.put("held_out_loss", e.heldOutLoss());
        }
        if (!Double.isNaN(e.heldOutSampleLoss())) {
            node.put("held_out_sample_loss", e.heldOutSampleLoss());
        }
        node.put("learning_rate", e.learningRate());
        node.put("grad_norm", e.gradNorm());
        node.put("tokens_per_second", e.tokensPerSecond());
        node.put("model_gflops_per_second", e.modelGflopsPerSecond());
        node.put("elapsed_seconds", e.elapsedSeconds());
        jsonl.write(JSON.writeValueAsString(node));
        jsonl.newLine();
        csv.flush();
        jsonl.flush();
    }

    private static String optional(double value) {
        return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%.5f", value);
    }

    /**
     * Appends to {@code sample_versions.jsonl} which policy versions screened the rows of a step ({@code {"step": s,
     * "versions": {"<version>": rows}}}); nothing for steps whose data has no versions.
     */
    public void appendVersions(long step, Map<Long, Long> rowsByVersion) throws IOException {
        if (rowsByVersion.isEmpty()) {
            return;
        }
        if (versions == null) {
            versions = Files.newBufferedWriter(directory.resolve("sample_versions.jsonl"), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        ObjectNode node = JSON.createObjectNode();
        node.put("step", step);
        ObjectNode byVersion = node.putObject("versions");
        new TreeMap<>(rowsByVersion).forEach((v, n) -> byVersion.put(String.valueOf(v), n));
        versions.write(JSON.writeValueAsString(node));
        versions.newLine();
        versions.flush();
    }

    @Override
    public void close() throws IOException {
        csv.close();
        jsonl.close();
        if (versions != null) {
            versions.close();
        }
    }
}
