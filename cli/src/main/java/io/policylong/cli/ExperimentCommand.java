package io.policylong.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.evaluation.ArmRun;
import io.policylong.evaluation.EvalReport;
import io.policylong.evaluation.ExperimentSettings;
import io.policylong.evaluation.ExperimentSummary;
import io.policylong.evaluation.Haystack;
import io.policylong.evaluation.HeldOutLoss;
import io.policylong.evaluation.ProbeEvaluation;
import io.policylong.evaluation.ProbeGenerator;
import io.policylong.evaluation.ProbeScorer;
import io.policylong.evaluation.ProbeTask;
import io.policylong.model.runtime.ComputeDevice;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import io.policylong.pipeline.config.Locations;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.policy.CheckpointDigest;
import io.policylong.records.Document;
import io.policylong.records.JsonlDocuments;
import io.policylong.serving.ScoringOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong experiment}: does on-policy data help? The bundled model is continued for the same token budget
 * on each of four arms: (a) on-policy samples (the closed loop), (b) off-policy samples (screened once with version
 * 0), (c) similarity-only contexts (retrieved chunks without the dI filter), (d) the plain documents; for several
 * seeds. Every resulting checkpoint, and the base, is evaluated with the probes and on held-out text, and the arms are
 * compared seed by seed. Every step's result is kept on disk: run again, the command goes on from the last finished
 * step, and refuses a directory holding an experiment with other settings.
 */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = {"Compare on-policy samples with off-policy samples, similarity-only contexts and plain "
                + "documents at the same token budget, over several seeds (resumable).",
            "Writes OUT/summary/index.html, OUT/summary/experiment.json and the table on the console."})
public final class ExperimentCommand implements Callable<Integer> {
    /** The arms, in the order they are reported. */
    static final List<String> ARMS = List.of("on-policy", "off-policy", "similarity", "documents");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--config", defaultValue = "conf/loop.yaml", paramLabel = "FILE",
            description = "The job configuration (documents, retrieval, the initial checkpoint). Default: "
                    + "${DEFAULT-VALUE}.")
    Path config;

    @Option(names = "--out", defaultValue = "out/experiment", paramLabel = "DIR",
            description = "Where every step's output and state go. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--seeds", split = ",", defaultValue = "1,2,3", description = "Seeds (each orders the documents and the "
            + "trainer's batches); more seeds extend an experiment. Default: ${DEFAULT-VALUE}.")
    List<Long> seeds;

    @Option(names = "--versions", defaultValue = "2",
            description = "On-policy arm: versions the trainer announces. Default: ${DEFAULT-VALUE}.")
    int versions;

    @Option(names = "--steps-per-version", defaultValue = "10",
            description = "On-policy arm: steps between announcements (its tokens are every arm's budget). Default: "
                    + "${DEFAULT-VALUE}.")
    int stepsPerVersion;

    @Option(names = "--lr", defaultValue = "3e-4", description = "Peak learning rate of every arm. Default: "
            + "${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--max-length", defaultValue = "4096", description = "Longest training row. Default: "
            + "${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--tasks", split = ",", defaultValue = "niah_single,niah_multikey,kv_retrieval",
            description = "Probe tasks. Default: ${DEFAULT-VALUE}.")
    List<String> tasks;

    @Option(names = "--lengths", split = ",", defaultValue = "512,2048", description = "Probe lengths. Default: "
            + "${DEFAULT-VALUE}.")
    List<Integer> lengths;

    @Option(names = "--probes", defaultValue = "10", description = "Probes per task and length. Default: "
            + "${DEFAULT-VALUE}.")
    int probes;

    @Option(names = "--held-out", defaultValue = "data/corpus/held-out.jsonl", paramLabel = "JSONL",
            description = "Held-out documents (for the loss, and the probes' haystack); those any screened document "
                    + "was cut from are left out. Default: ${DEFAULT-VALUE}.")
    Path heldOut;

    @Option(names = "--held-out-documents", defaultValue = "8",
            description = "Held-out documents whose loss is measured. Default: ${DEFAULT-VALUE}.")
    int heldOutDocuments;

    @Mixin
    ScoringOptions scoring;

    private PrintWriter err;

    @Override
    public Integer call() throws Exception {
        err = spec.commandLine().getErr();
        if (seeds.isEmpty() || versions < 1 || stepsPerVersion < 1 || probes < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--seeds, --versions, --steps-per-version "
                    + "and --probes need at least one");
        }
        List<ProbeTask> chosen;
        try {
            chosen = ProbeTask.of(tasks);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--tasks: " + e.getMessage());
        }
        // Outputs and checkpoints are the experiment's own (as `loop` sets them), whatever the file says.
        PipelineConfig pipeline = PipelineConfig.parse(LoopCommand.withLoopLocations(config, out), config.toString())
                .withLocationsResolvedAgainst(Path.of(""));
        if (pipeline.usesKafka() || pipeline.policy().initialCheckpoint() == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), config + ": the experiment runs the job on "
                    + "files from policy.initial-checkpoint (no kafka section)");
        }
        Path base = Locations.localPath(pipeline.policy().initialCheckpoint());
        Path documents = Locations.localPath(pipeline.input().documents());
        checkSettings(base);
        long started = System.nanoTime();

        List<Document> heldOutTexts = cleanHeldOut(documents);
        List<ArmRun> runs = new ArrayList<>();
        ArmRun baseRun = step("base", () -> evaluate("base", 0, 0, base, chosen, heldOutTexts));
        for (long seed : seeds) {
            // The seed orders the documents (for every arm: the job screens them, and samples are committed, in this
            // order) and the trainer's batches; without it three of the arms would see the same data every seed.
            Path seedConfig = configWithDocuments(seed, documents);
            Path ordered = orderedDocuments(seed);
            Path offPolicy = screen("screen-off-policy-seed-" + seed, seedConfig, Map.of());
            Path similarity = screen("screen-similarity-seed-" + seed, seedConfig, Map.of("epsilon", -1e6,
                    "epsilon-neg", -1e6));
            ArmRun a = step("on-policy-seed-" + seed, () -> {
                Path dir = out.resolve("on-policy-seed-" + seed);
                child(dir.resolve("loop.log"), "loop", "--config", seedConfig.toString(), "--out",
                        dir.resolve("loop").toString(), "--versions", String.valueOf(versions), "--steps-per-version",
                        String.valueOf(stepsPerVersion), "--lr", String.valueOf(learningRate), "--max-length",
                        String.valueOf(maxLength), "--seed", String.valueOf(seed), "--held-out-samples", "0",
                        "--eval-rows", "0", "--idle", "5");
                Path trainer = dir.resolve("loop/trainer");
                return evaluateTrained("on-policy", seed, trainer, chosen, heldOutTexts);
            });
            runs.add(a);
            long budget = a.tokens();
            runs.add(step("off-policy-seed-" + seed, () -> trainOn("off-policy", seed, budget,
                    List.of("--samples", offPolicy.toString(), "--reuse-after", "1", "--samples-wait", "60"), chosen,
                    heldOutTexts, base)));
            runs.add(step("similarity-seed-" + seed, () -> trainOn("similarity", seed, budget,
                    List.of("--samples", similarity.toString(), "--reuse-after", "1", "--samples-wait", "60"), chosen,
                    heldOutTexts, base)));
            runs.add(step("documents-seed-" + seed, () -> trainOn("documents", seed, budget,
                    List.of("--data", ordered.toString(), "--context", String.valueOf(maxLength), "--echo", "0",
                            "--drills", "0"), chosen, heldOutTexts, base)));
        }
        ExperimentSummary summary = ExperimentSummary.of(runs, ARMS, "on-policy", baseRun);
        summary.write(out.resolve("summary"));
        spec.commandLine().getOut().print(summary.table());
        spec.commandLine().getOut().flush();
        err.printf("experiment: done in %.1f min this run; %s%n", (System.nanoTime() - started) / 6e10,
                out.resolve("summary/index.html"));
        return 0;
    }

    /** A step that is done (its result file is there) is read back; otherwise it runs from a clean directory. */
    private ArmRun step(String name, StepBody body) throws Exception {
        Path dir = out.resolve(name);
        Path result = dir.resolve("result.json");
        if (Files.isRegularFile(result)) {
            err.printf("experiment: %s done earlier%n", name);
            err.flush();
            return ArmRun.read(result);
        }
        deleteTree(dir);
        Files.createDirectories(dir);
        err.printf("experiment: %s%n", name);
        err.flush();
        long start = System.nanoTime();
        ArmRun run = body.run().withSeconds((System.nanoTime() - start) / 1e9);
        run.write(result);
        err.printf("experiment: %s: %d tokens, held-out loss %.4f (%.0f s)%n", name, run.tokens(), run.heldOutLoss(),
                run.seconds());
        err.flush();
        return run;
    }

    @FunctionalInterface
    private interface StepBody {
        ArmRun run() throws Exception;
    }

    /**
     * The job configuration of a seed: its documents in the seed's order ({@code documents-order-seed-<n>.jsonl}),
     * everything else as given.
     */
    private Path configWithDocuments(long seed, Path documents) throws Exception {
        Path ordered = orderedDocuments(seed);
        Path file = out.resolve("config-seed-" + seed + ".yaml");
        if (!Files.isRegularFile(file)) {
            List<String> lines = new ArrayList<>();
            for (Path f : JsonlDocuments.files(documents)) {
                Files.readAllLines(f, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).forEach(lines::add);
            }
            java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
            for (int i = lines.size() - 1; i > 0; i--) {
                java.util.Collections.swap(lines, i, random.nextInt(i + 1));
            }
            Files.write(ordered, lines, StandardCharsets.UTF_8);
            ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
            ObjectNode tree = (ObjectNode) yaml.readTree(config.toFile());
            (tree.get("input") instanceof ObjectNode input ? input : tree.putObject("input"))
                    .put("documents", ordered.toAbsolutePath().toString());
            yaml.writeValue(file.toFile(), tree);
        }
        return file;
    }

    private Path orderedDocuments(long seed) {
        return out.resolve("documents-order-seed-" + seed + ".jsonl");
    }

    /** The job once with version 0 (and screening overrides), for the arms that do not follow the model. */
    private Path screen(String name, Path jobConfig, Map<String, Double> screening) throws Exception {
        Path dir = out.resolve(name);
        Path done = dir.resolve("done");
        if (!Files.exists(done)) {
            deleteTree(dir);
            Files.createDirectories(dir);
            err.printf("experiment: %s%n", name);
            err.flush();
            JsonNode tree = LoopCommand.withLoopLocations(jobConfig, dir);
            ObjectNode section = tree.get("screening") instanceof ObjectNode o ? o
                    : ((ObjectNode) tree).putObject("screening");
            screening.forEach(section::put);
            Path yaml = dir.resolve("job.yaml");
            new ObjectMapper(new YAMLFactory()).writeValue(yaml.toFile(), tree);
            child(dir.resolve("run.log"), "run", "--config", yaml.toString(), "--until-idle", "10", "--fresh");
            Files.writeString(done, "");
        }
        return dir.resolve("samples");
    }

    private ArmRun trainOn(String arm, long seed, long budget, List<String> data, List<ProbeTask> chosen,
            List<Document> heldOutTexts, Path base) throws Exception {
        Path dir = out.resolve(arm + "-seed-" + seed);
        long steps = (long) versions * stepsPerVersion;
        List<String> args = new ArrayList<>(List.of("train", "--from", base.toString(), "--restart-schedule", "--out",
                dir.resolve("trainer").toString(), "--token-budget", String.valueOf(budget), "--steps",
                String.valueOf(steps * 4), "--warmup", String.valueOf(Math.max(1, steps / 10)), "--lr",
                String.valueOf(learningRate), "--min-lr", String.valueOf(learningRate / 10), "--batch-rows", "1",
                "--max-length", String.valueOf(maxLength), "--seed", String.valueOf(seed), "--log-every", "1",
                "--save-every", "100000", "--eval-rows", "0", "--device", "cpu"));
        args.addAll(data);
        child(dir.resolve("train.log"), args.toArray(String[]::new));
        return evaluateTrained(arm, seed, dir.resolve("trainer"), chosen, heldOutTexts);
    }

    /** The trainer's last checkpoint, evaluated. */
    private ArmRun evaluateTrained(String arm, long seed, Path trainer, List<ProbeTask> chosen,
            List<Document> heldOutTexts) throws Exception {
        Path last;
        try (Stream<Path> dirs = Files.list(trainer)) {
            last = dirs.filter(p -> p.getFileName().toString().startsWith("step-")).max(Path::compareTo)
                    .orElseThrow(() -> new IllegalStateException(trainer + " has no checkpoint"));
        }
        long tokens = JSON.readTree(last.resolve("trainer_state.json").toFile()).path("tokens").asLong();
        return evaluate(arm, seed, tokens, last, chosen, heldOutTexts);
    }

    private ArmRun evaluate(String arm, long seed, long tokens, Path checkpoint, List<ProbeTask> chosen,
            List<Document> heldOutTexts) throws Exception {
        try (LoadedCheckpoint loaded = LoadedCheckpoint.load(checkpoint, ComputeDevice.resolve(scoring.device),
                scoring.chunks(), scoring.maxBatchTokens)) {
            CheckpointTokenizer tokenizer = loaded.tokenizer();
            List<long[]> texts = heldOutTexts.stream().limit(heldOutDocuments)
                    .map(d -> tokenizer.encodeIds(d.text(), false)).toList();
            double loss = HeldOutLoss.of(loaded.scorer(), texts, 1024);
            ProbeGenerator generator = new ProbeGenerator(Haystack.of(heldOutTexts.stream().map(Document::text)
                    .toList()), text -> tokenizer.encodeIds(text, false).length, 1);
            ProbeScorer scorer = ProbeScorer.of(loaded, scoring.chunks(), false);
            EvalReport report = ProbeEvaluation.run(checkpoint.toString(), generator, scorer, chosen, lengths, probes,
                    1, line -> {
                        err.println("experiment:   " + line);
                        err.flush();
                    });
            report.write(out.resolve(arm.equals("base") ? "base" : arm + "-seed-" + seed).resolve("eval"));
            return ArmRun.of(arm, seed, tokens, loss, report, 0);
        }
    }

    /** Held-out documents no screened document was cut from (screened ids are {@code <held-out id>~<n>}). */
    private List<Document> cleanHeldOut(Path screened) throws IOException {
        Set<String> parents = JsonlDocuments.read(screened, p -> { }).stream()
                .map(d -> d.id().contains("~") ? d.id().substring(0, d.id().indexOf('~')) : d.id())
                .collect(Collectors.toSet());
        List<Document> clean = JsonlDocuments.read(heldOut, p -> { }).stream()
                .filter(d -> !parents.contains(d.id())).toList();
        if (clean.size() < 2) {
            throw new IllegalArgumentException(heldOut + " has " + clean.size() + " documents that no screened document "
                    + "was cut from; the held-out loss needs more");
        }
        return clean;
    }

    /**
     * Records the settings on the first run; refuses a directory holding an experiment with other settings, naming
     * them. Other seeds are welcome: each is a replicate of the same settings.
     */
    private void checkSettings(Path base) throws Exception {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("method", "seed orders the documents and the batches of every arm");
        settings.put("config", Files.readString(config, StandardCharsets.UTF_8));
        settings.put("base_sha256", CheckpointDigest.weightsSha256(base));
        settings.put("versions", versions);
        settings.put("steps_per_version", stepsPerVersion);
        settings.put("lr", learningRate);
        settings.put("max_length", maxLength);
        settings.put("tasks", tasks);
        settings.put("lengths", lengths);
        settings.put("probes", probes);
        settings.put("held_out", heldOut.toString());
        settings.put("held_out_documents", heldOutDocuments);
        ExperimentSettings current = ExperimentSettings.of(settings, seeds);
        Path file = out.resolve("settings.json");
        if (Files.isRegularFile(file)) {
            ExperimentSettings recorded = ExperimentSettings.read(file);
            List<String> differ = current.differencesFrom(recorded);
            if (!differ.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), out + " holds an experiment with other "
                        + "settings (" + String.join(", ", differ) + "; see its settings.json); its results would "
                        + "mix with these: choose another --out");
            }
            err.printf("experiment: going on with the experiment in %s (seeds given before: %s)%n", out,
                    recorded.seeds());
            current = current.withSeedsOf(recorded);
        } else {
            Files.createDirectories(out);
        }
        current.write(file);
    }

    /** A command of this program in its own JVM (the job and the trainer run alone, with the machine's threads). */
    private void child(Path log, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                PolicyLong.class.getName()));
        command.addAll(List.of(args));
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("DJL_OFFLINE", "true");
        Process process = builder.start();
        try {
            int exit = process.waitFor();
            if (exit != 0) {
                List<String> lines = Files.readAllLines(log);
                throw new IllegalStateException("`" + args[0] + "` failed with exit code " + exit + "; the end of "
                        + log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20),
                                lines.size())));
            }
        } finally {
            if (process.isAlive()) {
                process.destroy();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
