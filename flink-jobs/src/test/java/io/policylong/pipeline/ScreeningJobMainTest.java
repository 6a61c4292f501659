package io.policylong.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster entry point's arguments and configuration, and the errors a user sees before anything runs. */
class ScreeningJobMainTest {
    @TempDir
    Path dir;

    @Test
    void theConfigurationArgument() {
        assertEquals("s3://b/job.yaml", ScreeningJobMain.configArgument(List.of("--config", "s3://b/job.yaml")));
        assertEquals("/etc/job.yaml", ScreeningJobMain.configArgument(List.of("--config=/etc/job.yaml")));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ScreeningJobMain.configArgument(List.of()));
        assertTrue(missing.getMessage().startsWith("usage: flink run policylong-job.jar --config"));
        IllegalArgumentException bare = assertThrows(IllegalArgumentException.class,
                () -> ScreeningJobMain.configArgument(List.of("--config")));
        assertTrue(bare.getMessage().startsWith("--config needs a value"), bare.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> ScreeningJobMain.configArgument(List.of("--confg", "x")));
        assertTrue(unknown.getMessage().contains("unexpected argument '--confg'"), unknown.getMessage());
    }

    @Test
    void theConfigurationIsReadFromAPathOrAnyFlinkFileSystemUri() throws Exception {
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, "input: {}\n");
        byte[] expected = "input: {}\n".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(expected, ScreeningJobMain.read(file.toString()));
        assertArrayEquals(expected, ScreeningJobMain.read(file.toUri().toString()));
        IOException e = assertThrows(IOException.class, () -> ScreeningJobMain.read(dir.resolve("none.yaml")
                .toString()));
        assertTrue(e.getMessage().contains("the job configuration does not exist"), e.getMessage());
    }

    @Test
    void relativeLocationsAndTheLocalRunnersInitialCheckpointAreRefusedBeforeSubmission() throws Exception {
        Path relative = dir.resolve("relative.yaml");
        Files.writeString(relative, String.join("\n",
                "input: {documents: /data/in}",
                "policy: {checkpoints: /data/announcements}",
                "retrieval: {index: /data/index}",
                "output: {samples: out/samples, dead-letters: /data/dead}",
                "runtime: {checkpoint-interval: 10s}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScreeningJobMain.main(new String[] {"--config", relative.toString()}));
        assertTrue(e.getMessage().contains("output.samples: 'out/samples' is a relative path"), e.getMessage());

        Path initial = dir.resolve("initial.yaml");
        Files.writeString(initial, String.join("\n",
                "input: {documents: /data/in}",
                "policy: {checkpoints: /data/announcements, initial-checkpoint: /models/m}",
                "retrieval: {index: /data/index}",
                "output: {samples: /data/samples, dead-letters: /data/dead}"));
        e = assertThrows(IllegalArgumentException.class,
                () -> ScreeningJobMain.main(new String[] {"--config", initial.toString()}));
        assertTrue(e.getMessage().contains("policy.initial-checkpoint is announced by the embedded runner only"),
                e.getMessage());

        Path unchecked = dir.resolve("unchecked.yaml");
        Files.writeString(unchecked, String.join("\n",
                "input: {documents: /data/in}",
                "policy: {checkpoints: /data/announcements}",
                "retrieval: {index: /data/index}",
                "output: {samples: /data/samples, dead-letters: /data/dead}"));
        IllegalStateException local = assertThrows(IllegalStateException.class,
                () -> ScreeningJobMain.main(new String[] {"--config", unchecked.toString()}));
        assertTrue(local.getMessage().contains("submit the job jar with `flink run` or the REST API"),
                "run outside a cluster client, it starts no local cluster: " + local.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScreeningJobMain.requireCheckpointing(
                org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.getExecutionEnvironment(),
                "job.yaml"));
        assertTrue(e.getMessage().contains("job.yaml: checkpointing is off"), e.getMessage());
    }
}
