package io.policylong.cli;

import picocli.CommandLine.Command;

/** {@code policylong bench}: the project's benchmarks. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks that print numbers.",
        subcommands = {BenchScoreCommand.class, BenchServeCommand.class})
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }
}
