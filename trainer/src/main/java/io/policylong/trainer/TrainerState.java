package io.policylong.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.policylong.trainer.optim.LearningRateSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * Where a run stands, written as {@code trainer_state.json} into every checkpoint: the step, tokens and data
 * rows consumed, the latest losses, the policy version it was announced as, and the settings to continue
 * with.
 *
 * @param step optimizer steps taken
 * @param tokens training tokens consumed
 * @param rows packed rows consumed (the data resume position)
 * @param trainLoss mean training loss over the last logging interval (nats per token)
 * @param heldOutLoss held-out loss at this checkpoint, NaN when not evaluated
 * @param learningRate rate of the last step
 * @param version policy version the checkpoint was announced as, -1 when not announced
 * @param time when the state was written
 * @param settings the run's settings
 * @param source where the data source stands beyond the row count (the samples read), or null
 */
public record TrainerState(long step, long tokens, long rows, double trainLoss, double heldOutLoss,
        double learningRate, long version, Instant time, TrainingSettings settings, JsonNode source) {

    public static final String FILE_NAME = "trainer_state.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes the state into a checkpoint directory. */
    public void write(Path directory) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("step", step);
        root.put("tokens", tokens);
        root.put("rows", rows);
        putNumber(root, "train_loss", trainLoss);
        putNumber(root, "held_out_loss", heldOutLoss);
        if (!Double.isNaN(heldOutLoss)) {
            root.put("held_out_perplexity", Math.exp(heldOutLoss));
        }
        root.put("learning_rate", learningRate);
        root.put("version", version);
        root.put("time", time.toString());
        ObjectNode s = root.putObject("settings");
        s.put("context_length", settings.contextLength());
        s.put("batch_rows", settings.batchRows());
        s.put("accumulation", settings.accumulation());
        s.put("peak_learning_rate", settings.schedule().peakRate());
        s.put("min_learning_rate", settings.schedule().minRate());
        s.put("warmup_steps", settings.schedule().warmupSteps());
        s.put("total_steps", settings.schedule().totalSteps());
        s.put("beta1", settings.beta1());
        s.put("beta2", settings.beta2());
        s.put("epsilon", settings.epsilon());
        s.put("weight_decay", settings.weightDecay());
        s.put("clip_norm", settings.clipNorm());
        s.put("seed", settings.seed());
        s.put("echo_probability", settings.echoProbability());
        s.put("drill_fraction", settings.drillFraction());
        s.put("log_every", settings.logEvery());
        s.put("save_every", settings.saveEvery());
        s.put("eval_rows", settings.evalRows());
        if (source != null) {
            root.set("source", source);
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(directory.resolve(FILE_NAME).toFile(), root);
    }

    private static void putNumber(ObjectNode node, String field, double value) {
        if (Double.isNaN(value)) {
            node.putNull(field);
        } else {
            node.put(field, value);
        }
    }

    /** Reads the state of a checkpoint directory. */
    public static TrainerState read(Path directory) throws IOException {
        Path file = directory.resolve(FILE_NAME);
        JsonNode root = JSON.readTree(Files.readAllBytes(file));
        JsonNode s = root.path("settings");
        if (!root.isObject() || !s.isObject()) {
            throw new IOException(file + ": not a trainer state (no settings object)");
        }
        try {
            TrainingSettings settings = new TrainingSettings(
                    s.path("context_length").asInt(), s.path("batch_rows").asInt(), s.path("accumulation").asInt(),
                    new LearningRateSchedule(s.path("peak_learning_rate").asDouble(),
                            s.path("min_learning_rate").asDouble(), s.path("warmup_steps").asLong(),
                            s.path("total_steps").asLong()),
                    s.path("beta1").asDouble(), s.path("beta2").asDouble(), s.path("epsilon").asDouble(),
                    s.path("weight_decay").asDouble(), s.path("clip_norm").asDouble(), s.path("seed").asLong(),
                    s.path("echo_probability").asDouble(), s.path("drill_fraction").asDouble(0),
                    s.path("log_every").asInt(), s.path("save_every").asInt(),
                    s.path("eval_rows").asInt());
            return new TrainerState(root.path("step").asLong(), root.path("tokens").asLong(),
                    root.path("rows").asLong(), root.path("train_loss").asDouble(Double.NaN),
                    root.path("held_out_loss").asDouble(Double.NaN), root.path("learning_rate").asDouble(),
                    root.path("version").asLong(-1), Instant.parse(root.path("time").asText()), settings,
                    root.has("source") ? root.get("source") : null);
        } catch (IllegalArgumentException | java.time.DateTimeException e) {
            throw new IOException(file + ": invalid trainer state: " + e.getMessage(), e);
        }
    }
}
