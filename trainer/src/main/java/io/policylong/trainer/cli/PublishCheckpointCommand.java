package io.policylong.trainer.cli;

import io.policylong.connectors.records.PolicyUpdate;
import io.policylong.trainer.CheckpointAnnouncer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong publish-checkpoint}: announces a checkpoint that any trainer wrote as a policy update, the
 * same way the bundled trainer does.
 */
@Command(name = "publish-checkpoint", mixinStandardHelpOptions = true,
        description = {"Announce a checkpoint directory as a policy version: checks that it loads (config.json, "
                + "safetensors headers), computes the SHA-256 of its weights and drops the descriptor "
                + "policy-<version>.json atomically into the checkpoints directory the pipeline watches.",
            "Versions only move forward: a version not above every one already announced there is refused."})
public final class PublishCheckpointCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", required = true, paramLabel = "CKPT", description = "The checkpoint directory.")
    Path checkpoint;

    @Option(names = "--version", required = true, paramLabel = "N", description = "The policy version.")
    long version;

    @Option(names = "--announce-dir", required = true, paramLabel = "DIR",
            description = "The checkpoints directory the pipeline watches.")
    Path announceDir;

    @Option(names = "--step", paramLabel = "S", description = "The trainer step of the checkpoint.")
    Long step;

    @Option(names = "--run", paramLabel = "NAME", description = "The training run.")
    String run;

    @Override
    public Integer call() throws Exception {
        PolicyUpdate update = new CheckpointAnnouncer(announceDir, run).announce(checkpoint, version, step);
        spec.commandLine().getOut().println(update.toJson());
        spec.commandLine().getErr().printf("publish-checkpoint: version %d announced in %s%n", version, announceDir);
        return 0;
    }
}
