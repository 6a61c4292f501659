package io.policylong.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.pipeline.config.Locations;
import io.policylong.pipeline.config.PipelineConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The cluster entry point (the job jar's {@code Main-Class}): {@code flink run policylong-job.jar --config
 * PATH_OR_URI}. Reads the job configuration where the program runs (the Flink client, or the JobManager for a
 * REST or application-mode submission) through Flink's file systems, so a local path and any Flink URI
 * ({@code s3://...}) both work; builds the dataflow on the environment Flink provides and submits it. Every
 * location in the configuration must be absolute or a URI. It never starts a local cluster and never exits
 * the JVM: failures are exceptions with the reason.
 */
public final class ScreeningJobMain {
    /** The job's name on the cluster. */
    public static final String JOB_NAME = "policylong screening";

    private ScreeningJobMain() {
    }

    public static void main(String[] args) throws Exception {
        String location = configArgument(List.of(args));
        PipelineConfig config = PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(read(location)),
                location).withAbsoluteLocations(location);
        if (config.policy().initialCheckpoint() != null) {
            throw new IllegalArgumentException(location + ": policy.initial-checkpoint is announced by the embedded "
                    + "runner only; on a cluster announce the first checkpoint with `policylong publish-checkpoint`");
        }
        Configuration settings = JobSettings.of(config);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(settings);
        if (env instanceof LocalStreamEnvironment) {
            // Outside `flink run` or a REST submission Flink would start a local cluster in this JVM.
            throw new IllegalStateException("this is the entry point for a Flink cluster: submit the job jar with "
                    + "`flink run` or the REST API (to run on this machine, use `bin/policylong run`)");
        }
        requireCheckpointing(env, location);
        KafkaTopicSetup.prepare(config, line -> System.out.println("policylong: " + line));
        String destinations = ScreeningTopology.build(env, config, lines -> lines);
        System.out.println("policylong: submitting '" + JOB_NAME + "': " + destinations);
        env.execute(JOB_NAME);
    }

    /** Outputs are committed on checkpoints: a job without them would never commit a sample. */
    static void requireCheckpointing(StreamExecutionEnvironment env, String location) {
        if (!env.getCheckpointConfig().isCheckpointingEnabled()) {
            throw new IllegalArgumentException(location + ": checkpointing is off: set runtime.checkpoint-interval, "
                    + "or execution.checkpointing.interval in the cluster's configuration (samples and dead letters "
                    + "are committed on checkpoints)");
        }
    }

    /** The value of {@code --config} (also {@code --config=VALUE}). */
    static String configArgument(List<String> args) {
        String value = null;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--config")) {
                if (i + 1 == args.size()) {
                    throw new IllegalArgumentException("--config needs a value: flink run policylong-job.jar --config "
                            + "PATH_OR_URI");
                }
                value = args.get(++i);
            } else if (arg.startsWith("--config=")) {
                value = arg.substring("--config=".length());
            } else {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'; usage: flink run "
                        + "policylong-job.jar --config PATH_OR_URI");
            }
        }
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("usage: flink run policylong-job.jar --config PATH_OR_URI (the job's "
                    + "YAML configuration: a local path or a Flink file system URI)");
        }
        return value;
    }

    /** The bytes of a configuration file, from a path or any Flink file system. */
    static byte[] read(String location) throws IOException {
        URI uri = Locations.isUri(location) ? URI.create(location)
                : Path.of(location).toAbsolutePath().normalize().toUri();
        org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(uri);
        FileSystem fs = path.getFileSystem();
        if (!fs.exists(path)) {
            throw new IOException(location + ": the job configuration does not exist");
        }
        try (InputStream in = fs.open(path)) {
            return in.readAllBytes();
        }
    }
}
