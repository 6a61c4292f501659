package io.policylong.trainer;

import io.policylong.trainer.optim.LearningRateSchedule;

/**
 * How a run trains: batch shape, optimizer, schedule, data seed and augmentation, and how often it reports
 * and writes checkpoints. Saved in every checkpoint's {@code trainer_state.json} so a continued run goes on
 * with the same schedule.
 *
 * @param contextLength tokens per packed row
 * @param batchRows rows per forward/backward pass
 * @param accumulation passes whose gradients are summed before one optimizer step
 * @param schedule learning rate over steps
 * @param beta1 AdamW first moment decay
 * @param beta2 AdamW second moment decay
 * @param epsilon AdamW epsilon
 * @param weightDecay decoupled weight decay (matrices only)
 * @param clipNorm global gradient norm limit (0: none)
 * @param seed data order and augmentation seed
 * @param echoProbability probability that a document is emitted with spans of itself repeated
 * @param drillFraction share of training tokens in copy drills (spans immediately repeated)
 * @param logEvery steps between progress lines
 * @param saveEvery steps between checkpoints (the last step always writes one)
 * @param evalRows held-out rows evaluated at every checkpoint
 */
public record TrainingSettings(int contextLength, int batchRows, int accumulation, LearningRateSchedule schedule,
        double beta1, double beta2, double epsilon, double weightDecay, double clipNorm, long seed,
        double echoProbability, double drillFraction, int logEvery, int saveEvery, int evalRows) {

    public TrainingSettings {
        if (contextLength < 2 || batchRows < 1 || accumulation < 1 || logEvery < 1 || saveEvery < 1 || evalRows < 0) {
            throw new IllegalArgumentException("context >= 2, batch rows, accumulation, log and save intervals >= 1, "
                    + "eval rows >= 0 are required");
        }
        if (echoProbability < 0 || echoProbability > 1) {
            throw new IllegalArgumentException("echo probability must be in [0, 1]");
        }
        if (drillFraction < 0 || drillFraction >= 1) {
            throw new IllegalArgumentException("drill fraction must be in [0, 1)");
        }
    }

    /** Tokens per optimizer step. */
    public long tokensPerStep() {
        return (long) contextLength * batchRows * accumulation;
    }
}
