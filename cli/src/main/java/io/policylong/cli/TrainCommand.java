package io.policylong.cli;

import ai.djl.Device;
import io.policylong.model.config.Architecture;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ComputeDevice;
import io.policylong.model.safetensors.SafetensorsFile;
import io.policylong.model.safetensors.TensorEntry;
import io.policylong.model.tokenizer.ByteLevelTokenizerJson;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import io.policylong.model.tokenizer.TokenizerFiles;
import io.policylong.trainer.CheckpointWriter;
import io.policylong.trainer.Trainer;
import io.policylong.trainer.TrainerAnnouncer;
import io.policylong.trainer.TrainerState;
import io.policylong.trainer.TrainingLog;
import io.policylong.trainer.TrainingSettings;
import io.policylong.trainer.data.BatchPacker;
import io.policylong.trainer.data.BatchSource;
import io.policylong.trainer.data.TrainingTexts;
import io.policylong.trainer.samples.CommittedSampleFiles;
import io.policylong.trainer.samples.CommittedSampleRecords;
import io.policylong.trainer.samples.SampleLog;
import io.policylong.trainer.samples.SampleRows;
import io.policylong.trainer.samples.SampleStream;
import io.policylong.trainer.samples.SamplesPosition;
import io.policylong.trainer.model.TrainableDecoder;
import io.policylong.trainer.optim.AdamW;
import io.policylong.trainer.optim.LearningRateSchedule;
import java.io.PrintWriter;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong train}: trains a fresh Qwen2-shaped model, or continues one from a checkpoint, on JSONL
 * documents or pipeline samples; writes checkpoints and, optionally, announces each as a policy update.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a small Qwen2-shaped model (or continue a checkpoint) with AdamW, warm-up and cosine "
                + "schedule, gradient clipping and accumulation.",
            "Data: JSONL lines with \"text\", \"input_ids\" or pipeline sample \"segments\", packed into rows of "
                    + "--context tokens; documents never attend across each other. Or, with --samples, the screening "
                    + "job's samples directory, followed as the job commits: one sample per row, never split.",
            "Writes OUT/step-NNNNNNNN checkpoints (config.json, model.safetensors, tokenizer.json, "
                    + "trainer_state.json, optimizer.safetensors), OUT/train_log.csv and OUT/train_log.jsonl."})
public final class TrainCommand implements Callable<Integer> {
    /** Recent samples kept for --replay. */
    static final int REPLAY_CAPACITY = 1024;

    @Spec
    CommandSpec spec;

    @Option(names = "--data", split = ",", paramLabel = "FILE", description = "Training JSONL files.")
    List<Path> data;

    @Option(names = "--samples", paramLabel = "DIR",
            description = "Train on the screening job's samples directory instead of --data: its committed part files "
                    + "in commit order, new ones as they are committed, each sample once (the position is saved with "
                    + "every checkpoint), one sample per row at its full length.")
    Path samples;

    @Option(names = "--samples-topic", paramLabel = "TOPIC",
            description = "Train on the screening job's samples topic instead (with --kafka): committed records only "
                    + "(read_committed), from the beginning or the checkpoint's offsets, each sample once.")
    String samplesTopic;

    @Option(names = "--kafka", paramLabel = "BOOTSTRAP",
            description = "Kafka bootstrap servers of --samples-topic and --announce-topic.")
    String kafka;

    @Option(names = "--property", paramLabel = "KEY=VALUE",
            description = "A Kafka client setting (repeatable), e.g. security.protocol=SASL_SSL.")
    Map<String, String> properties = new LinkedHashMap<>();

    @Option(names = "--max-length", defaultValue = "8192",
            description = "With --samples: the longest row; a longer sample leaves out contexts (distractors, then "
                    + "hard negatives, then positives) and keeps its document. Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--anchor-loss-weight", defaultValue = "1",
            description = "With --samples: weight of the loss on the document's anchor tokens (the tokens the "
                    + "screening found hard; 1 weighs them like any other). Default: ${DEFAULT-VALUE}.")
    double anchorLossWeight;

    @Option(names = "--replay", defaultValue = "0",
            description = "With --samples: the chance that a row replays one of the last " + REPLAY_CAPACITY
                    + " samples instead of a fresh one. Default: ${DEFAULT-VALUE}.")
    double replay;

    @Option(names = "--on-policy",
            description = "With --samples or --samples-topic and an announcer: once the trainer has announced a "
                    + "checkpoint, train only on samples screened by it (or a newer one); older samples are skipped "
                    + "and counted (stale_samples_skipped), and the trainer waits for the job to screen under it.")
    boolean onPolicy;

    @Option(names = "--reuse-after", defaultValue = "0", paramLabel = "SECONDS",
            description = "With --samples or --samples-topic: when no new sample has come for this long, train again "
                    + "on the samples of the newest version already used (never on ones older than --on-policy "
                    + "allows) instead of waiting; 0 always waits. Default: ${DEFAULT-VALUE}.")
    long reuseAfter;

    @Option(names = "--samples-wait", defaultValue = "0", paramLabel = "SECONDS",
            description = "With --samples: stop (with a last checkpoint) when no new sample has been committed for "
                    + "this long; 0 waits for ever. Default: ${DEFAULT-VALUE}.")
    long samplesWait;

    @Option(names = "--held-out", split = ",", paramLabel = "FILE", description = "Held-out JSONL files for evaluation.")
    List<Path> heldOut = new ArrayList<>();

    @Option(names = "--held-out-samples", defaultValue = "0", paramLabel = "N",
            description = "With --samples or --samples-topic: set the first N samples of distinct documents aside and "
                    + "evaluate the loss on them at every checkpoint (held_out_sample_loss); no sample of their "
                    + "documents is trained on. Default: ${DEFAULT-VALUE}.")
    int heldOutSamples;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory for checkpoints and logs.")
    Path out;

    @Option(names = "--from", paramLabel = "DIR",
            description = "Start from this checkpoint's weights and tokenizer. If it has trainer_state.json, the step "
                    + "count, schedule, data position and optimizer state continue from it.")
    Path from;

    @Option(names = "--restart-schedule",
            description = "With --from: take only the checkpoint's weights and tokenizer, and train with this command's "
                    + "settings from step 1 (a new phase, such as learning from the job's samples), ignoring its "
                    + "trainer_state.json.")
    boolean restartSchedule;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json for a fresh model (default: the byte-level tokenizer).")
    Path tokenizer;

    @Option(names = "--hidden", defaultValue = "256", description = "Fresh model: hidden size. Default: ${DEFAULT-VALUE}.")
    int hidden;

    @Option(names = "--layers", defaultValue = "6", description = "Fresh model: layers. Default: ${DEFAULT-VALUE}.")
    int layers;

    @Option(names = "--heads", defaultValue = "4", description = "Fresh model: attention heads. Default: ${DEFAULT-VALUE}.")
    int heads;

    @Option(names = "--kv-heads", defaultValue = "2", description = "Fresh model: key/value heads. Default: ${DEFAULT-VALUE}.")
    int kvHeads;

    @Option(names = "--intermediate", defaultValue = "704", description = "Fresh model: MLP width. Default: ${DEFAULT-VALUE}.")
    int intermediate;

    @Option(names = "--max-positions", defaultValue = "4096",
            description = "Fresh model: max_position_embeddings. Default: ${DEFAULT-VALUE}.")
    int maxPositions;

    @Option(names = "--rope-theta", defaultValue = "10000", description = "Fresh model: rotary base. Default: ${DEFAULT-VALUE}.")
    double ropeTheta;

    @Option(names = "--seed-copying",
            description = "Fresh model: start with an in-context copying circuit in the first and last layers (needs "
                    + "a Qwen2 shape with hidden >= 4 * head size, two to four query heads per key head and a "
                    + "rotary base such as 1e16 for head size 48); the weights stay trainable.")
    boolean seedCopying;

    @Option(names = "--context", defaultValue = "2048", description = "Tokens per packed row. Default: ${DEFAULT-VALUE}.")
    int context;

    @Option(names = "--batch-rows", defaultValue = "4", description = "Rows per pass. Default: ${DEFAULT-VALUE}.")
    int batchRows;

    @Option(names = "--accumulation", defaultValue = "1",
            description = "Passes accumulated per optimizer step. Default: ${DEFAULT-VALUE}.")
    int accumulation;

    @Option(names = "--steps", defaultValue = "1000",
            description = "Total optimizer steps (a continued run may extend them). Default: ${DEFAULT-VALUE}.")
    long steps;

    @Option(names = "--token-budget", defaultValue = "0", paramLabel = "TOKENS",
            description = "Stop after the first step at which this many tokens have been trained on (a continued run's "
                    + "earlier tokens count), with a checkpoint; 0: no budget, --steps decides. Default: "
                    + "${DEFAULT-VALUE}.")
    long tokenBudget;

    @Option(names = "--warmup", defaultValue = "100", description = "Warm-up steps. Default: ${DEFAULT-VALUE}.")
    long warmup;

    @Option(names = "--lr", defaultValue = "3e-3", description = "Peak learning rate. Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--min-lr", defaultValue = "3e-4", description = "Final learning rate. Default: ${DEFAULT-VALUE}.")
    double minLearningRate;

    @Option(names = "--weight-decay", defaultValue = "0.1", description = "Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Option(names = "--beta1", defaultValue = "0.9", description = "Default: ${DEFAULT-VALUE}.")
    double beta1;

    @Option(names = "--beta2", defaultValue = "0.95", description = "Default: ${DEFAULT-VALUE}.")
    double beta2;

    @Option(names = "--epsilon", defaultValue = "1e-8", description = "Default: ${DEFAULT-VALUE}.")
    double epsilon;

    @Option(names = "--clip", defaultValue = "1.0",
            description = "Global gradient norm limit, 0 for none. Default: ${DEFAULT-VALUE}.")
    double clip;

    @Option(names = "--seed", defaultValue = "1", description = "Initialisation and data seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--echo",
            description = "Probability that a document is trained with a span of itself repeated later in it, which "
                    + "teaches copying from context. Default: 0.5 with --data; with --samples echo is not used.")
    Double echo;

    @Option(names = "--drills",
            description = "Share of training tokens in copy drills (groups of short spans of the data, each group "
                    + "repeated at once, so the copy sits up to about 1,000 tokens back), the quickest way to teach a "
                    + "small model to look back. Default: 0.25 with --data; with --samples drills are not used.")
    Double drills;

    @Option(names = "--log-every", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}.")
    int logEvery;

    @Option(names = "--save-every", defaultValue = "250", description = "Default: ${DEFAULT-VALUE}.")
    int saveEvery;

    @Option(names = "--eval-rows", defaultValue = "16",
            description = "Held-out rows evaluated at each checkpoint. Default: ${DEFAULT-VALUE}.")
    int evalRows;

    @Option(names = "--announce-dir", paramLabel = "DIR",
            description = "Announce each checkpoint as the next policy version in this checkpoints directory.")
    Path announceDir;

    @Option(names = "--announce-topic", paramLabel = "TOPIC",
            description = "Announce on this policies topic (at --kafka) too, or instead of --announce-dir; without a "
                    + "directory the version is one above the newest on the topic.")
    String announceTopic;

    @Option(names = "--announce-every", defaultValue = "0", paramLabel = "STEPS",
            description = "Announce the checkpoints of every STEPS-th step only (each written whatever --save-every "
                    + "says); 0 announces every checkpoint. Default: ${DEFAULT-VALUE}.")
    int announceEvery;

    @Option(names = "--run", paramLabel = "NAME", description = "Run name recorded in announcements.")
    String run;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, gpu or gpu:N. Default: ${DEFAULT-VALUE}.")
    String device;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getErr();
        int sources = (data == null || data.isEmpty() ? 0 : 1) + (samples == null ? 0 : 1) + (samplesTopic == null ? 0
                : 1);
        if (sources != 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "give either --data FILE,... or --samples DIR or --samples-topic TOPIC");
        }
        if ((samplesTopic != null || announceTopic != null) != (kafka != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), kafka == null
                    ? "--samples-topic and --announce-topic need --kafka BOOTSTRAP"
                    : "--kafka is for --samples-topic or --announce-topic; give one of them");
        }
        if (announceEvery < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--announce-every must be 0 or more");
        }
        boolean onSamples = samples != null || samplesTopic != null;
        if (onSamples && (echo != null || drills != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--echo and --drills rewrite or dilute the "
                    + "data; with --samples every row is one sample as the job wrote it");
        }
        double echoProbability = echo != null ? echo : onSamples ? 0 : 0.5;
        double drillFraction = drills != null ? drills : onSamples ? 0 : 0.25;
        int rowLength = onSamples ? maxLength : context;
        Device target = ComputeDevice.resolve(device);
        Files.createDirectories(out);
        TrainerState resumed = from != null && !restartSchedule && Files.exists(from.resolve(TrainerState.FILE_NAME))
                ? TrainerState.read(from) : null;
        TrainingSettings settings = resumed != null ? continued(resumed.settings()) : new TrainingSettings(rowLength,
                batchRows, accumulation, new LearningRateSchedule(learningRate, minLearningRate, warmup, steps), beta1,
                beta2, epsilon, weightDecay, clip, seed, echoProbability, drillFraction, logEvery, saveEvery, evalRows);
        Path tokenizerJson = tokenizerFile();
        try (TrainableDecoder model = from != null ? TrainableDecoder.load(from, target)
                        : fresh(freshConfig(tokenizerJson), target);
                CheckpointTokenizer tokens = CheckpointTokenizer.load(tokenizerJson, false);
                AdamW optimizer = new AdamW(model.newStepManager(), settings.beta1(), settings.beta2(),
                        settings.epsilon(), settings.weightDecay(), settings.clipNorm());
                TrainingLog log = new TrainingLog(out)) {
            model.attachGradients();
            int vocab = model.config().vocabSize();
            List<String> problems = new ArrayList<>();
            List<long[]> training = onSamples ? List.of() : TrainingTexts.read(data, tokens, vocab, problems::add);
            List<long[]> evaluation = TrainingTexts.read(heldOut, tokens, vocab, problems::add);
            problems.stream().limit(20).forEach(p -> console.println("skipped " + p));
            if (problems.size() > 20) {
                console.printf("skipped %d more lines%n", problems.size() - 20);
            }
            long trainingTokens = training.stream().mapToLong(s -> s.length).sum();
            console.printf("train: %s, %d held-out; model %s, %d layers, hidden %d, vocab %d on %s%n",
                    onSamples ? "samples from " + (samples != null ? samples : samplesTopic + " at " + kafka)
                            + " (one per row, up to " + settings.contextLength() + " tokens)"
                            : training.size() + " training sequences (" + trainingTokens + " tokens)",
                    evaluation.size(), model.config().architecture().className(), model.config().numLayers(),
                    model.config().hiddenSize(), vocab, target);
            BatchSource packer;
            if (onSamples) {
                SamplesPosition start = SampleStream.positionOf(resumed == null ? null : resumed.source());
                SampleLog sampleLog = samples != null ? new CommittedSampleFiles(samples, start)
                        : new CommittedSampleRecords(kafka, samplesTopic, properties, start);
                packer = new SampleStream(sampleLog, start,
                        new SampleRows(tokens::encodeIds, settings.contextLength()), vocab, anchorLossWeight, replay,
                        REPLAY_CAPACITY, settings.seed(), Duration.ofMillis(500),
                        samplesWait > 0 ? Duration.ofSeconds(samplesWait) : null, line -> {
                            console.println(line);
                            console.flush();
                        });
            } else {
                BatchPacker packed = new BatchPacker(training, settings.contextLength(), settings.seed(),
                        settings.echoProbability(), settings.drillFraction());
                if (resumed != null) {
                    packed.skipRows(resumed.rows());
                }
                packer = packed;
            }
            if (resumed != null) {
                restoreOptimizer(optimizer, model, resumed, console);
                console.printf("train: continuing %s from step %d (%d tokens)%n", from, resumed.step(),
                        resumed.tokens());
            }
            TrainerAnnouncer announcer = TrainerAnnouncer.of(announceDir, announceTopic == null ? null : kafka,
                    announceTopic, properties, run);
            if (packer instanceof SampleStream stream) {
                stream.holdingOut(heldOutSamples, resumed == null ? null : resumed.source());
            } else if (heldOutSamples > 0) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--held-out-samples needs --samples or --samples-topic");
            }
            if (reuseAfter > 0 && packer instanceof SampleStream stream) {
                stream.reusingNewestAfter(Duration.ofSeconds(reuseAfter));
            }
            if (onPolicy) {
                if (!(packer instanceof SampleStream stream) || announcer == null) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--on-policy needs --samples or "
                            + "--samples-topic, and --announce-dir or --announce-topic");
                }
                stream.withMinimumVersion(announcer::lastVersion);
            }
            Trainer trainer = new Trainer(model, optimizer, packer, evaluation, settings, out, tokenizerJson,
                    announcer, announceEvery, log, console).stoppingAfterTokens(tokenBudget);
            TrainerState last;
            try {
                last = trainer.run(resumed);
            } finally {
                if (packer instanceof SampleStream stream) {
                    stream.close();
                }
                if (announcer != null) {
                    announcer.close();
                }
            }
            if (last != null) {
                console.printf("train: done at step %d; last checkpoint %s%n", last.step(),
                        out.resolve(CheckpointWriter.directoryName(last.step())));
            }
        }
        return 0;
    }

    private TrainableDecoder fresh(ModelConfig config, Device target) {
        TrainableDecoder model = TrainableDecoder.initialized(config, seed, target);
        try {
            return seedCopying ? model.seedInductionCircuit(seed) : model;
        } catch (IllegalArgumentException e) {
            model.close();
            throw new IllegalArgumentException("--seed-copying: " + e.getMessage(), e);
        }
    }

    /**
     * Saved settings, with the total steps extended when --steps asks for more; on samples, rows of --max-length and
     * neither echo nor drills, whatever the checkpoint was trained on before.
     */
    private TrainingSettings continued(TrainingSettings saved) {
        LearningRateSchedule s = saved.schedule();
        long total = Math.max(s.totalSteps(), steps);
        boolean onSamples = samples != null || samplesTopic != null;
        return new TrainingSettings(onSamples ? maxLength : saved.contextLength(), saved.batchRows(),
                saved.accumulation(), new LearningRateSchedule(s.peakRate(), s.minRate(), s.warmupSteps(), total),
                saved.beta1(), saved.beta2(), saved.epsilon(), saved.weightDecay(), saved.clipNorm(), saved.seed(),
                onSamples ? 0 : saved.echoProbability(), onSamples ? 0 : saved.drillFraction(), saved.logEvery(),
                saved.saveEvery(), saved.evalRows());
    }

    private Path tokenizerFile() throws Exception {
        if (from != null) {
            return from.resolve(CheckpointTokenizer.FILE_NAME);
        }
        if (tokenizer != null) {
            return tokenizer;
        }
        Path generated = out.resolve(CheckpointTokenizer.FILE_NAME);
        ByteLevelTokenizerJson.write(generated);
        return generated;
    }

    private ModelConfig freshConfig(Path tokenizerJson) throws Exception {
        if (hidden % heads != 0) {
            throw new IllegalArgumentException("--hidden " + hidden + " is not divisible by --heads " + heads);
        }
        return new ModelConfig(Architecture.QWEN2, TokenizerFiles.vocabularySize(tokenizerJson), hidden, intermediate,
                layers, heads, kvHeads, hidden / heads, 1e-6, ropeTheta, true, true, false, false, maxPositions,
                new RopeScaling.None());
    }

    /** Restores AdamW moments saved with the checkpoint; without them the moments start from zero. */
    private void restoreOptimizer(AdamW optimizer, TrainableDecoder model, TrainerState state, PrintWriter console)
            throws Exception {
        Path file = from.resolve(CheckpointWriter.OPTIMIZER_FILE);
        if (!Files.exists(file)) {
            console.printf("train: %s has no %s; optimizer moments start from zero%n", from,
                    CheckpointWriter.OPTIMIZER_FILE);
            return;
        }
        SafetensorsFile moments = SafetensorsFile.open(file);
        Map<String, float[]> values = new LinkedHashMap<>();
        for (TensorEntry entry : moments.tensors().values()) {
            FloatBuffer buffer = FloatBuffer.allocate(Math.toIntExact(entry.elementCount()));
            moments.readFloat32(entry, 0, buffer.capacity(), buffer);
            values.put(entry.name(), buffer.array());
        }
        optimizer.restore(model.parameters(), values, state.step());
    }
}
