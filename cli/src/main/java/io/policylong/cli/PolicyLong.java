package io.policylong.cli;

import io.policylong.cli.BrokerCommand;
import io.policylong.cli.CorpusCommand;
import io.policylong.cli.ProduceCorpusCommand;
import io.policylong.cli.BenchCommand;
import io.policylong.cli.ErrorReporter;
import io.policylong.cli.RandomCheckpointCommand;
import io.policylong.cli.ScoreCommand;
import io.policylong.cli.ExportCheckpointCommand;
import io.policylong.cli.PublishCheckpointCommand;
import io.policylong.cli.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code policylong} command line: one subcommand per task of the project. */
@Command(name = "policylong", mixinStandardHelpOptions = true, versionProvider = PolicyLong.Version.class,
        description = "PolicyLong Stream: on-policy long-context training data.",
        subcommands = {RunCommand.class, LoopCommand.class, ReportCommand.class, IndexCommand.class, CorpusCommand.class, TrainCommand.class, PublishCheckpointCommand.class,
            BrokerCommand.class, ProduceCorpusCommand.class,
            ExportCheckpointCommand.class, ScoreCommand.class, io.policylong.serving.ServeCommand.class, EvalCommand.class, ExperimentCommand.class,
            BenchCommand.class, RandomCheckpointCommand.class, CommandLine.HelpCommand.class})
public final class PolicyLong implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    public static void main(String[] args) {
        // The launcher passes this too; set it here as well so that no entry point lets DJL reach the network.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        int exit = new CommandLine(new PolicyLong())
                .setExecutionExceptionHandler(new ErrorReporter())
                .execute(args);
        System.exit(exit);
    }

    /** Reports the build version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = PolicyLong.class.getPackage().getImplementationVersion();
            return new String[] {"policylong " + (v == null ? "(development build)" : v)};
        }
    }
}
