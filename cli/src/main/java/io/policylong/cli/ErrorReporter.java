package io.policylong.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns a command's failure into one clear line on stderr ({@code policylong <command>: <reason>}) for the
 * errors a user can act on (bad files, bad arguments); anything unexpected also gets its stack trace.
 * Exit code 2.
 */
public final class ErrorReporter implements IExecutionExceptionHandler {
    /** Exit code of a command that could not run. */
    public static final int EXIT_FAILED = 2;

    @Override
    public int handleExecutionException(Exception e, CommandLine commandLine, ParseResult parseResult) {
        String command = commandLine.getCommandSpec().qualifiedName();
        commandLine.getErr().println(command + ": " + e.getMessage());
        if (!(e instanceof IOException || e instanceof UncheckedIOException || e instanceof IllegalArgumentException
                || e instanceof IllegalStateException)) {
            e.printStackTrace(commandLine.getErr());
        }
        commandLine.getErr().flush();
        return EXIT_FAILED;
    }
}
