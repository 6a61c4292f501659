package io.policylong.cli;

import io.policylong.policy.KafkaPublisher;
import io.policylong.records.PolicyUpdate;
import io.policylong.policy.CheckpointAnnouncer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong publish-checkpoint}: announces a checkpoint that any trainer wrote as a policy update, the
 * same way the bundled trainer does.
 */
// No standard --version option: --version is the policy version here.
@Command(name = "publish-checkpoint",
        description = {"Announce a checkpoint directory as a policy version: checks that it loads (config.json, "
                + "safetensors headers), computes the SHA-256 of its weights and drops the descriptor "
                + "policy-<version>.json atomically into the checkpoints directory the pipeline watches.",
            "Versions only move forward: a version not above every one already announced there is refused.",
            "With --kafka the update is also (or only, without --announce-dir) sent to the policies topic, keyed "
                    + "by run; the job dead-letters a version that is not above its current one."})
public final class PublishCheckpointCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--dir", required = true, paramLabel = "CKPT", description = "The checkpoint directory.")
    Path checkpoint;

    @Option(names = "--uri", paramLabel = "URI",
            description = "Where TaskManagers load the checkpoint from, when not from --dir itself: any Flink file "
                    + "system URI (s3://..., hdfs://...) holding the same files; --dir is digested. Default: the "
                    + "file: URI of --dir.")
    String uri;

    @Option(names = "--version", required = true, paramLabel = "N", description = "The policy version.")
    long version;

    @Option(names = "--announce-dir", paramLabel = "DIR",
            description = "The checkpoints directory the pipeline watches.")
    Path announceDir;

    @Option(names = "--kafka", paramLabel = "BOOTSTRAP", description = "Kafka bootstrap servers to announce on.")
    String kafka;

    @Option(names = "--topic", defaultValue = "policylong.policies",
            description = "The policies topic (one partition keeps updates ordered). Default: ${DEFAULT-VALUE}.")
    String topic;

    @Option(names = "--property", paramLabel = "KEY=VALUE",
            description = "A Kafka producer property (security settings and the like); repeatable.")
    Map<String, String> properties = Map.of();

    @Option(names = "--step", paramLabel = "S", description = "The trainer step of the checkpoint.")
    Long step;

    @Option(names = "--run", paramLabel = "NAME", description = "The training run.")
    String run;

    @Override
    public Integer call() throws Exception {
        if (announceDir == null && kafka == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "say where to announce: --announce-dir DIR, --kafka BOOTSTRAP, or both");
        }
        PolicyUpdate update = announceDir != null
                ? new CheckpointAnnouncer(announceDir, run).announce(checkpoint, uri, version, step)
                : CheckpointAnnouncer.describe(checkpoint, uri, version, step, run);
        if (announceDir != null) {
            spec.commandLine().getErr().printf("publish-checkpoint: version %d announced in %s%n", version,
                    announceDir);
        }
        if (kafka != null) {
            try (KafkaPublisher publisher = new KafkaPublisher(kafka, topic, properties)) {
                var sent = publisher.sendAndWait(run == null ? "policy" : run, update.toJson());
                spec.commandLine().getErr().printf("publish-checkpoint: version %d announced on %s (partition %d, "
                        + "offset %d) at %s%n", version, topic, sent.partition(), sent.offset(), kafka);
            }
        }
        spec.commandLine().getOut().println(update.toJson());
        return 0;
    }
}
