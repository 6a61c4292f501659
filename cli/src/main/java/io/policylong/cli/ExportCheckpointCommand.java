package io.policylong.cli;

import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.ParameterLayout;
import io.policylong.model.safetensors.SafetensorsCheckpoint;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.safetensors.SafetensorsWriter;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import io.policylong.trainer.TrainerState;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong export-checkpoint}: copies a checkpoint for serving, with its weights stored in another
 * dtype (half precision halves the size) and without the optimizer state.
 */
@Command(name = "export-checkpoint", mixinStandardHelpOptions = true,
        description = "Copy a checkpoint for serving: config.json, weights in the chosen dtype, tokenizer.json and "
                + "trainer_state.json (no optimizer state).")
public final class ExportCheckpointCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--from", required = true, paramLabel = "DIR", description = "The checkpoint to export.")
    Path from;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The directory to write.")
    Path out;

    @Option(names = "--dtype", defaultValue = "f16", paramLabel = "TYPE",
            description = "f32, f16 or bf16. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Override
    public Integer call() throws Exception {
        SafetensorsDType type = SafetensorsDType.valueOf(dtype.toUpperCase(Locale.ROOT));
        ModelConfig config = ModelConfig.load(from);
        SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(from);
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        for (Map.Entry<String, long[]> e : ParameterLayout.of(config).entrySet()) {
            long count = 1;
            for (long d : e.getValue()) {
                count *= d;
            }
            FloatBuffer values = FloatBuffer.allocate(Math.toIntExact(count));
            weights.readFloat32(e.getKey(), 0, values.capacity(), values);
            tensors.add(new SafetensorsWriter.Tensor(e.getKey(), e.getValue(), values.array()));
        }
        Files.createDirectories(out);
        config.write(out);
        SafetensorsWriter.write(out.resolve(SafetensorsCheckpoint.SINGLE_FILE), tensors, type, Map.of("format", "pt"));
        for (String file : List.of(CheckpointTokenizer.FILE_NAME, TrainerState.FILE_NAME)) {
            if (Files.exists(from.resolve(file))) {
                Files.copy(from.resolve(file), out.resolve(file), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        spec.commandLine().getErr().printf("export-checkpoint: %s -> %s (%s, %d bytes of weights)%n", from, out, type,
                Files.size(out.resolve(SafetensorsCheckpoint.SINGLE_FILE)));
        return 0;
    }
}
