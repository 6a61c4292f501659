package io.policylong.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command, and every group of commands, prints its help and succeeds on {@code --help}. */
class CommandHelpTest {
    private static void collect(String prefix, CommandLine command, List<String[]> paths) {
        for (Map.Entry<String, CommandLine> sub : command.getSubcommands().entrySet()) {
            if (sub.getValue().getCommandSpec().aliases().length > 0
                    && !sub.getKey().equals(sub.getValue().getCommandName())) {
                continue;
            }
            String path = prefix.isEmpty() ? sub.getKey() : prefix + " " + sub.getKey();
            if (!sub.getKey().equals("help")) {
                paths.add(path.split(" "));
            }
            collect(path, sub.getValue(), paths);
        }
    }

    @Test
    void everyCommandPrintsItsHelpAndExitsZero() {
        List<String[]> commands = new ArrayList<>();
        collect("", new CommandLine(new PolicyLong()), commands);
        assertTrue(commands.size() >= 11, "all commands found: " + commands.size());
        for (String[] path : commands) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CommandLine cli = new CommandLine(new PolicyLong()).setOut(new PrintWriter(out))
                    .setErr(new PrintWriter(err));
            String[] args = new String[path.length + 1];
            System.arraycopy(path, 0, args, 0, path.length);
            args[path.length] = "--help";
            int exit = cli.execute(args);
            String name = String.join(" ", path);
            assertEquals(0, exit, name + " --help: " + err);
            assertTrue(out.toString().startsWith("Usage: policylong " + name), name + ": " + out);
            assertFalse(err.toString().contains("Missing required"), name + ": " + err);
        }
    }
}
