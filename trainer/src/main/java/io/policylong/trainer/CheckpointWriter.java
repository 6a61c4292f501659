package io.policylong.trainer;

import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.safetensors.SafetensorsWriter;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import io.policylong.trainer.model.TrainableDecoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes training checkpoints as Hugging Face style directories named {@code step-<8 digits>}:
 * {@code config.json}, {@code model.safetensors} (float32, so the runtime loads exactly the trained values),
 * {@code tokenizer.json}, {@code trainer_state.json} and {@code optimizer.safetensors} (AdamW moments, for
 * continuing). The directory is assembled under a hidden name and renamed into place, so nobody sees a
 * checkpoint half written.
 */
public final class CheckpointWriter {
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";

    private CheckpointWriter() {
    }

    /** The directory name of a step's checkpoint. */
    public static String directoryName(long step) {
        return String.format("step-%08d", step);
    }

    /** Writes a checkpoint and returns its directory. */
    public static Path write(Path outputDirectory, TrainableDecoder model, Path tokenizerJson, TrainerState state,
            Map<String, float[]> optimizerState) throws IOException {
        Files.createDirectories(outputDirectory);
        Path target = outputDirectory.resolve(directoryName(state.step()));
        Path temp = outputDirectory.resolve("." + directoryName(state.step()) + ".part");
        deleteRecursively(temp);
        Files.createDirectories(temp);
        model.saveWeights(temp, SafetensorsDType.F32);
        Files.copy(tokenizerJson, temp.resolve(CheckpointTokenizer.FILE_NAME), StandardCopyOption.REPLACE_EXISTING);
        state.write(temp);
        if (!optimizerState.isEmpty()) {
            List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
            optimizerState.forEach((name, values) -> tensors.add(
                    new SafetensorsWriter.Tensor(name, new long[] {values.length}, values)));
            SafetensorsWriter.write(temp.resolve(OPTIMIZER_FILE), tensors, SafetensorsDType.F32,
                    Map.of("adamw_steps", Long.toString(state.step())));
        }
        deleteRecursively(target);
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
