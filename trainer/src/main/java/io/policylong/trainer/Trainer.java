package io.policylong.trainer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.policylong.records.PolicyUpdate;
import io.policylong.model.config.ModelFlops;
import io.policylong.trainer.data.BatchPacker;
import io.policylong.trainer.data.BatchSource;
import io.policylong.trainer.data.PackedBatch;
import io.policylong.trainer.model.TrainableDecoder;
import io.policylong.trainer.optim.AdamW;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * The training loop: for each step, {@code accumulation} forward/backward passes over packed rows, one AdamW
 * update at the scheduled rate; progress on the console and in the log files every {@code logEvery} steps;
 * every {@code saveEvery} steps and at the end, a held-out evaluation and a checkpoint; when an announcer is set,
 * every checkpoint (or, with {@code announceEvery}, every checkpoint of a step divisible by it, which is then always
 * written) is announced as the next policy version.
 */
public final class Trainer {
    private final TrainableDecoder model;
    private final AdamW optimizer;
    private final BatchSource packer;
    private final List<long[]> heldOut;
    private final TrainingSettings settings;
    private final Path outputDirectory;
    private final Path tokenizerJson;
    private final TrainerAnnouncer announcer;
    private final int announceEvery;
    private final TrainingLog log;
    private final PrintWriter console;
    private long tokenBudget;

    public Trainer(TrainableDecoder model, AdamW optimizer, BatchSource packer, List<long[]> heldOut,
            TrainingSettings settings, Path outputDirectory, Path tokenizerJson, TrainerAnnouncer announcer,
            int announceEvery, TrainingLog log, PrintWriter console) {
        this.model = model;
        this.optimizer = optimizer;
        this.packer = packer;
        this.heldOut = heldOut;
        this.settings = settings;
        this.outputDirectory = outputDirectory;
        this.tokenizerJson = tokenizerJson;
        this.announcer = announcer;
        this.announceEvery = announceEvery;
        this.log = log;
        this.console = console;
    }

    /**
     * Stops after the first step at which the run has trained on at least {@code tokens} tokens (counted from the
     * start of training, a continued run's earlier tokens included), with a checkpoint of that step; 0: no budget.
     * Runs compared on the same budget train on the same amount of data whatever their rows' lengths.
     */
    public Trainer stoppingAfterTokens(long tokens) {
        if (tokens < 0) {
            throw new IllegalArgumentException("the token budget must be 0 or more, not " + tokens);
        }
        this.tokenBudget = tokens;
        return this;
    }

    /**
     * Trains from the step after {@code start} up to the schedule's total steps (or the token budget).
     *
     * @return the state of the last checkpoint written
     */
    /** Consecutive non-finite steps after which training stops instead of skipping on. */
    static final int MAX_SKIPPED_IN_A_ROW = 5;

    public TrainerState run(TrainerState start) throws IOException, InterruptedException {
        long total = settings.schedule().totalSteps();
        long tokens = start == null ? 0 : start.tokens();
        long firstStep = start == null ? 1 : start.step() + 1;
        TrainerState last = start;
        double intervalLoss = 0;
        double intervalNorm = 0;
        int intervalSteps = 0;
        int intervalAllSteps = 0;
        double intervalFlops = 0;
        long intervalTokens = 0;
        long intervalStart = System.nanoTime();
        long runStart = System.nanoTime();
        console.printf(Locale.ROOT, "train: %.2fM parameters, up to %d tokens per step, steps %d..%d%n",
                model.parameterCount() / 1e6, settings.tokensPerStep(), firstStep, total);
        int skippedInARow = 0;
        for (long step = firstStep; step <= total; step++) {
            double rate = settings.schedule().rate(step);
            double stepLoss = 0;
            long stepTokens = 0;
            for (int pass = 0; pass < settings.accumulation(); pass++) {
                PackedBatch batch;
                try {
                    batch = packer.next(settings.batchRows());
                } catch (BatchSource.SourceExhaustedException e) {
                    console.printf("train: stopping before step %d: %s%n", step, e.getMessage());
                    long done = step - 1;
                    // The last full step gets its checkpoint (unless it has one already).
                    if (done >= firstStep && (last == null || last.step() != done)) {
                        last = saveCheckpoint(done, tokens, intervalSteps > 0 ? intervalLoss / intervalSteps
                                : Double.NaN, heldOutLoss(), settings.schedule().rate(done));
                    }
                    return last;
                }
                stepTokens += packer.tokens(batch);
                try (NDManager manager = model.newStepManager();
                        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = model.loss(manager, batch);
                    collector.backward(loss.div(settings.accumulation()));
                    stepLoss += loss.toType(DataType.FLOAT32, false).getFloat() / settings.accumulation();
                }
                intervalFlops += 3 * pieceFlops(batch);
            }
            double norm = optimizer.step(model.parameters(), rate);
            if (!Double.isFinite(norm) || !Double.isFinite(stepLoss)) {
                skippedInARow++;
                console.printf(Locale.ROOT, "step %d: loss %s, gradient norm %s: not finite, update skipped%n", step,
                        stepLoss, norm);
                if (skippedInARow >= MAX_SKIPPED_IN_A_ROW) {
                    throw new IllegalStateException("training diverged: " + skippedInARow + " steps in a row up to step "
                            + step + " had a non-finite loss or gradient; lower --lr or raise --warmup");
                }
            } else {
                skippedInARow = 0;
            }
            tokens += stepTokens;
            intervalTokens += stepTokens;
            intervalAllSteps++;
            log.appendVersions(step, packer.takeVersions());
            if (Double.isFinite(norm) && Double.isFinite(stepLoss)) {
                intervalLoss += stepLoss;
                intervalNorm += norm;
                intervalSteps++;
            }
            boolean budgetSpent = tokenBudget > 0 && tokens >= tokenBudget;
            boolean save = step % settings.saveEvery() == 0 || step == total || budgetSpent
                    || (announcer != null && announceEvery > 0 && step % announceEvery == 0);
            if (step % settings.logEvery() == 0 || save) {
                double seconds = (System.nanoTime() - intervalStart) / 1e9;
                double elapsed = (System.nanoTime() - runStart) / 1e9;
                double tokensPerSecond = intervalTokens / seconds;
                double heldOutLoss = save ? heldOutLoss() : Double.NaN;
                double heldOutSampleLoss = save ? heldOutSampleLoss() : Double.NaN;
                double meanLoss = intervalLoss / intervalSteps;
                long remaining = total - step;
                double eta = remaining * seconds / intervalAllSteps;
                console.printf(Locale.ROOT, "step %d/%d  loss %.4f%s%s  lr %.2e  |g| %.3f  %.0f tok/s  %.2f model "
                        + "GFLOP/s  elapsed %s  eta %s%n", step, total, meanLoss,
                        Double.isNaN(heldOutLoss) ? "" : String.format(Locale.ROOT, "  held-out %.4f (ppl %.2f)",
                                heldOutLoss, Math.exp(heldOutLoss)),
                        Double.isNaN(heldOutSampleLoss) ? "" : String.format(Locale.ROOT, "  held-out samples %.4f",
                                heldOutSampleLoss),
                        rate, intervalNorm / intervalSteps, tokensPerSecond, intervalFlops / seconds / 1e9,
                        duration(elapsed), duration(eta));
                console.flush();
                log.append(new TrainingLog.Entry(step, tokens, meanLoss, heldOutLoss, heldOutSampleLoss, rate,
                        intervalNorm / intervalSteps,
                        tokensPerSecond, intervalFlops / seconds / 1e9, elapsed));
                if (save) {
                    last = saveCheckpoint(step, tokens, meanLoss, heldOutLoss, rate);
                }
                intervalLoss = 0;
                intervalNorm = 0;
                intervalSteps = 0;
                intervalFlops = 0;
                intervalTokens = 0;
                intervalAllSteps = 0;
                intervalStart = System.nanoTime();
            }
            if (budgetSpent) {
                console.printf("train: token budget of %d reached at step %d (%d tokens)%n", tokenBudget, step, tokens);
                return last;
            }
        }
        return last;
    }

    private TrainerState saveCheckpoint(long step, long tokens, double trainLoss, double heldOutLoss, double rate)
            throws IOException {
        TrainerState state = new TrainerState(step, tokens, packer.rowsProduced(), trainLoss, heldOutLoss, rate, -1,
                Instant.now(), settings, packer.resumeState());
        Path directory = CheckpointWriter.write(outputDirectory, model, tokenizerJson, state, optimizer.state());
        if (announced(step)) {
            PolicyUpdate update;
            try {
                update = announcer.announce(directory, step);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while announcing " + directory, e);
            }
            state = new TrainerState(step, tokens, state.rows(), trainLoss, heldOutLoss, rate, update.version(),
                    state.time(), settings, state.source());
            state.write(directory);
            console.printf("checkpoint %s announced as policy version %d in %s%n", directory, update.version(),
                    announcer.where());
        } else {
            console.printf("checkpoint %s%n", directory);
        }
        return state;
    }

    /** Whether the checkpoint of a step is announced: every checkpoint, or every {@code announceEvery} steps. */
    private boolean announced(long step) {
        return announcer != null && (announceEvery <= 0 || step % announceEvery == 0);
    }

    /** Mean loss over the first {@code evalRows} held-out rows, without gradients; NaN when there are none. */
    public double heldOutLoss() {
        if (heldOut.isEmpty() || settings.evalRows() == 0) {
            return Double.NaN;
        }
        BatchPacker evaluation = new BatchPacker(heldOut, settings.contextLength(), 0, 0);
        List<PackedBatch> batches = new java.util.ArrayList<>();
        for (int done = 0; done < settings.evalRows(); done += settings.batchRows()) {
            batches.add(evaluation.next(Math.min(settings.batchRows(), settings.evalRows() - done)));
        }
        return meanLoss(batches);
    }

    /** Mean loss over the source's held-out samples (every target weighted 1), without gradients; NaN without any. */
    public double heldOutSampleLoss() {
        List<PackedBatch> batches = packer.heldOutBatches(settings.batchRows());
        if (batches.isEmpty()) {
            return Double.NaN;
        }
        return meanLoss(batches);
    }

    private double meanLoss(List<PackedBatch> batches) {
        double weighted = 0;
        long targets = 0;
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (PackedBatch batch : batches) {
                try (NDManager manager = model.newStepManager()) {
                    int count = batch.targetCount();
                    weighted += model.loss(manager, batch).toType(DataType.FLOAT64, false).getDouble() * count;
                    targets += count;
                }
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        return weighted / targets;
    }

    /** Model FLOPs of one forward pass over the batch: causal attention within each packed piece. */
    private double pieceFlops(PackedBatch batch) {
        double flops = 0;
        long[] segments = batch.segments();
        int length = batch.length();
        for (int r = 0; r < batch.rows(); r++) {
            int start = 0;
            for (int i = 1; i <= length; i++) {
                if (i == length || segments[r * length + i] != segments[r * length + i - 1]) {
                    flops += ModelFlops.forward(model.config(), i - start, i - start);
                    start = i;
                }
            }
        }
        return flops;
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, (s % 3600) / 60)
                : String.format("%dm%02ds", s / 60, s % 60);
    }
}
