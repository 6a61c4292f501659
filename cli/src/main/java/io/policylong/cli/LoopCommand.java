package io.policylong.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.cli.local.EmbeddedRunner;
import io.policylong.pipeline.config.Locations;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.operators.PipelineProgress;
import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.report.JobTelemetry;
import io.policylong.report.TrainerLogs;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong loop}: the closed on-policy loop on one machine. The screening job runs in this JVM (the
 * embedded runner); the trainer runs beside it as a child process with its own tensor threads, continuing the
 * initial checkpoint on the samples the job commits and announcing a checkpoint every {@code --steps-per-version}
 * steps, which the job hot-swaps to and screens its documents again under. After {@code --versions} announcements
 * (or {@code --minutes}) the trainer stops, and the job stops with a savepoint once it has screened everything
 * under the newest version.
 */
@Command(name = "loop", mixinStandardHelpOptions = true,
        description = {"Run the screening job and the trainer together: the trainer learns from the job's samples "
                + "and announces checkpoints, the job follows them.",
            "Everything goes under --out: samples/, dead-letters/, checkpoints/ (policy announcements), flink/, "
                    + "trainer/ (the trainer's checkpoints and logs), job-metrics.json (hot-swap latency and "
                    + "throughput), report/ (index.html and report.json, refreshed every minute)."})
public final class LoopCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", defaultValue = "conf/loop.yaml", paramLabel = "FILE",
            description = "The job configuration; its output, checkpoint and announcement locations are set under --out. "
                    + "Default: ${DEFAULT-VALUE}.")
    Path config;

    @Option(names = "--out", defaultValue = "out/loop", paramLabel = "DIR",
            description = "Where everything goes; must not hold an earlier loop. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--versions", defaultValue = "3", description = "Checkpoints the trainer announces. Default: "
            + "${DEFAULT-VALUE}.")
    int versions;

    @Option(names = "--steps-per-version", defaultValue = "20",
            description = "Training steps between announcements. Default: ${DEFAULT-VALUE}.")
    int stepsPerVersion;

    @Option(names = "--minutes", paramLabel = "M", description = "Stop the trainer after this long at the latest.")
    Double minutes;

    @Option(names = "--trainer-threads", defaultValue = "1",
            description = "Tensor threads of the trainer (the job's scorer takes the other cores: --scorer-threads). "
                    + "Default: ${DEFAULT-VALUE}.")
    int trainerThreads;

    @Option(names = "--scorer-threads", defaultValue = "1",
            description = "Tensor threads of the job's scorer in this JVM (set before the engine starts). Default: "
                    + "${DEFAULT-VALUE}.")
    int scorerThreads;

    @Option(names = "--idle", defaultValue = "15", paramLabel = "SECONDS",
            description = "After the trainer's last announcement: stop the job once it has been idle this long. Default: "
                    + "${DEFAULT-VALUE}.")
    long idle;

    @Option(names = "--batch-rows", defaultValue = "1", description = "Trainer: samples per step. Default: "
            + "${DEFAULT-VALUE}.")
    int batchRows;

    @Option(names = "--max-length", defaultValue = "4096", description = "Trainer: longest sample row. Default: "
            + "${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--lr", defaultValue = "3e-4", description = "Trainer: peak learning rate (warm-up over the first "
            + "tenth of the steps, then cosine down to a tenth of it). Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--anchor-loss-weight", defaultValue = "1",
            description = "Trainer: weight of the loss on anchor tokens. Default: ${DEFAULT-VALUE}.")
    double anchorLossWeight;

    @Option(names = "--replay", defaultValue = "0", description = "Trainer: chance that a row replays a recent sample. "
            + "Default: ${DEFAULT-VALUE}.")
    double replay;

    @Option(names = "--reuse-after", defaultValue = "30", paramLabel = "SECONDS",
            description = "Trainer: when no new sample of its newest version has come for this long (the job may have "
                    + "screened everything under it), train again on that version's samples; 0 waits. Default: "
                    + "${DEFAULT-VALUE}.")
    long reuseAfter;

    @Option(names = "--held-out-samples", defaultValue = "4", paramLabel = "N",
            description = "Trainer: the first N samples of distinct documents are held out (their documents never "
                    + "trained on) and their loss evaluated at every announcement. Default: ${DEFAULT-VALUE}.")
    int heldOutSamples;

    @Option(names = "--held-out", defaultValue = "data/corpus/held-out.jsonl", paramLabel = "FILE",
            description = "Trainer: held-out text (JSONL) whose loss is evaluated at every announcement, when the file "
                    + "exists. Default: ${DEFAULT-VALUE}.")
    Path heldOut;

    @Option(names = "--eval-rows", defaultValue = "2",
            description = "Trainer: rows of --held-out text evaluated (each up to --max-length tokens). Default: "
                    + "${DEFAULT-VALUE}.")
    int evalRows;

    @Option(names = "--progress-every", defaultValue = "30", paramLabel = "SECONDS",
            description = "How often the loop's progress line is printed. Default: ${DEFAULT-VALUE}.")
    long progressEvery;

    @Option(names = "--seed", defaultValue = "1", description = "Trainer: data seed (replay, batches). Default: "
            + "${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--stale-samples",
            description = "Let the trainer also train on samples of versions older than its newest announcement (by "
                    + "default it waits for the job to screen under that version, so that every version is screened).")
    boolean staleSamples;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (versions < 1 || stepsPerVersion < 1 || trainerThreads < 1 || scorerThreads < 1 || progressEvery < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--versions, --steps-per-version, --progress-every and the thread counts must be at least 1");
        }
        if (heldOutSamples < 0 || evalRows < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--held-out-samples and --eval-rows must be 0 or more");
        }
        if (Files.isDirectory(out)) {
            try (var entries = Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw new CommandLine.ParameterException(spec.commandLine(), out + " holds an earlier loop: "
                            + "remove it or choose another --out");
                }
            }
        }
        Path samples = out.resolve("samples");
        Path checkpoints = out.resolve("checkpoints");
        Path trainerOut = out.resolve("trainer");
        PipelineConfig pipeline = PipelineConfig.parse(withLoopLocations(config, out), config.toString())
                .withLocationsResolvedAgainst(Path.of(""));
        if (pipeline.usesKafka()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "loop runs the job on files; its configuration must not have a kafka section");
        }
        if (pipeline.policy().initialCheckpoint() == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "the configuration needs policy.initial-checkpoint: the checkpoint the job starts with and the "
                            + "trainer continues");
        }
        Path initial = Locations.localPath(pipeline.policy().initialCheckpoint());
        if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(scorerThreads));
        }
        Files.createDirectories(out);

        EmbeddedRunner runner = RunCommand.prepare(pipeline, true, null, err);
        JobClient job = runner.run(null);
        Process trainer = startTrainer(initial, samples, checkpoints, trainerOut, (long) versions * stepsPerVersion);
        Thread pump = pump(trainer, err);
        Path metrics = out.resolve("job-metrics.json");
        Path report = out.resolve("report");
        long totalSteps = (long) versions * stepsPerVersion;
        long started = System.nanoTime();
        java.util.concurrent.ScheduledExecutorService refresher = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "loop-progress");
                    t.setDaemon(true);
                    return t;
                });
        refresher.scheduleWithFixedDelay(() -> {
            try {
                String line = LoopProgress.line(Duration.ofNanos(System.nanoTime() - started),
                        PipelineProgress.snapshot(), TrainerLogs.read(trainerOut, INITIAL_VERSION), INITIAL_VERSION,
                        PolicyDescriptorFiles.latestVersion(checkpoints).orElse(INITIAL_VERSION),
                        totalSteps, versions);
                synchronized (err) {
                    err.println(line);
                    err.flush();
                }
            } catch (Exception e) {
                synchronized (err) {
                    err.println("loop: progress unknown: " + e.getMessage());
                    err.flush();
                }
            }
        }, progressEvery, progressEvery, TimeUnit.SECONDS);
        // The report follows the run: refreshed every minute from what is committed so far.
        refresher.scheduleWithFixedDelay(() -> {
            try {
                writeReport(samples, trainerOut, metrics, report, line -> { });
            } catch (Exception e) {
                synchronized (err) {
                    err.println("loop: the report could not be refreshed: " + e.getMessage());
                    err.flush();
                }
            }
        }, 60, 60, TimeUnit.SECONDS);
        boolean finished = minutes == null ? waitFor(trainer)
                : trainer.waitFor(Math.round(minutes * 60_000), TimeUnit.MILLISECONDS);
        if (!finished) {
            err.printf("loop: --minutes %s reached: stopping the trainer%n", minutes);
            err.flush();
            trainer.destroy();
            if (!trainer.waitFor(60, TimeUnit.SECONDS)) {
                trainer.destroyForcibly().waitFor();
            }
        }
        pump.join(10_000);
        int trainerExit = trainer.exitValue();
        err.printf("loop: trainer %s; waiting until the job has screened everything under the newest version%n",
                trainerExit == 0 ? "done" : "exited with " + trainerExit);
        err.flush();
        runner.stopWhenIdle(job, Duration.ofSeconds(idle));
        refresher.shutdownNow();
        refresher.awaitTermination(60, TimeUnit.SECONDS);
        writeReport(samples, trainerOut, metrics, report, err::println);
        err.printf("loop: done; samples in %s, trainer checkpoints and logs in %s, report %s%n", samples, trainerOut,
                report.resolve("index.html"));
        err.flush();
        return finished && trainerExit != 0 ? 1 : 0;
    }

    /** The version the job announces the initial checkpoint as, in an empty checkpoints directory. */
    private static final long INITIAL_VERSION = 0;

    /** The job's metrics so far into {@code metrics}, then the report from them, the samples and the trainer's logs. */
    private static void writeReport(Path samples, Path trainerOut, Path metrics, Path report,
            java.util.function.Consumer<String> problems) throws Exception {
        jobTelemetry().write(metrics);
        ReportCommand.write(samples, trainerOut, metrics, INITIAL_VERSION, report, problems);
    }

    /** What the job in this JVM measured of its run. */
    static JobTelemetry jobTelemetry() {
        PipelineProgress.Throughput t = PipelineProgress.throughput();
        List<JobTelemetry.Version> versions = new ArrayList<>();
        for (PipelineProgress.VersionProgress v : PipelineProgress.versions()) {
            Duration swap = v.swapLatency();
            versions.add(new JobTelemetry.Version(v.version(), swap == null ? null : swap.toMillis() / 1000.0,
                    v.screenings(), Duration.between(v.firstCommit(), v.lastCommit()).toMillis() / 1000.0));
        }
        return new JobTelemetry(t.seconds(), t.screenings(), t.documentTokens(), t.forwardTokens(), t.positives(),
                versions);
    }

    /** The configuration with its outputs, checkpoints and announcements under {@code out}. */
    static JsonNode withLoopLocations(Path config, Path out) throws java.io.IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        JsonNode root = yaml.readTree(config.toFile());
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(config + " is not a YAML mapping");
        }
        ObjectNode tree = (ObjectNode) root;
        ObjectNode output = section(tree, "output");
        output.put("samples", out.resolve("samples").toString());
        output.put("dead-letters", out.resolve("dead-letters").toString());
        section(tree, "policy").put("checkpoints", out.resolve("checkpoints").toString());
        section(tree, "runtime").put("checkpoint-dir", out.resolve("flink").toString());
        return tree;
    }

    private static ObjectNode section(ObjectNode tree, String name) {
        JsonNode node = tree.get(name);
        if (node == null || node.isNull()) {
            return tree.putObject(name);
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(name + " must be a mapping");
        }
        return (ObjectNode) node;
    }

    /** The trainer, as a child process of this JVM's Java and class path, with its own tensor threads. */
    private Process startTrainer(Path initial, Path samples, Path checkpoints, Path trainerOut, long steps)
            throws java.io.IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=" + trainerThreads,
                "-Dai.djl.pytorch.num_interop_threads=1", "-cp", System.getProperty("java.class.path"),
                PolicyLong.class.getName(), "train", "--samples", samples.toString(), "--from", initial.toString(), "--restart-schedule",
                "--out", trainerOut.toString(), "--announce-dir", checkpoints.toString(), "--announce-every",
                String.valueOf(stepsPerVersion), "--save-every", String.valueOf(stepsPerVersion), "--steps",
                String.valueOf(steps), "--batch-rows", String.valueOf(batchRows), "--max-length",
                String.valueOf(maxLength), "--lr", String.valueOf(learningRate), "--min-lr", String.valueOf(learningRate / 10),
                "--warmup", String.valueOf(Math.max(1, steps / 10)), "--anchor-loss-weight",
                String.valueOf(anchorLossWeight), "--replay", String.valueOf(replay), "--log-every", "1",
                "--eval-rows", String.valueOf(Files.isRegularFile(heldOut) ? evalRows : 0), "--held-out-samples",
                String.valueOf(heldOutSamples), "--seed", String.valueOf(seed), "--run", "loop", "--device", "cpu"));
        if (Files.isRegularFile(heldOut)) {
            command.addAll(List.of("--held-out", heldOut.toString()));
        }
        if (!staleSamples) {
            command.add("--on-policy");
        }
        if (reuseAfter > 0) {
            command.addAll(List.of("--reuse-after", String.valueOf(reuseAfter)));
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("DJL_OFFLINE", "true");
        return builder.start();
    }

    /** Copies the trainer's output to the console, each line marked as the trainer's. */
    private static Thread pump(Process trainer, PrintWriter err) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(trainer.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    synchronized (err) {
                        err.println("trainer: " + line);
                        err.flush();
                    }
                }
            } catch (java.io.IOException e) {
                // The trainer is gone; its exit value tells the rest.
            }
        }, "trainer-output");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static boolean waitFor(Process process) throws InterruptedException {
        process.waitFor();
        return true;
    }
}
