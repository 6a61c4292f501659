package io.policylong.trainer.optim;

/**
 * Linear warm-up from 0 to the peak rate over {@code warmupSteps}, then cosine decay to {@code minRate} at
 * {@code totalSteps}; constant at {@code minRate} after that. Steps are counted from 1.
 */
public record LearningRateSchedule(double peakRate, double minRate, long warmupSteps, long totalSteps) {

    public LearningRateSchedule {
        if (!(peakRate > 0) || minRate < 0 || minRate > peakRate) {
            throw new IllegalArgumentException("need 0 <= min rate <= peak rate, peak > 0: " + minRate + ", "
                    + peakRate);
        }
        if (warmupSteps < 0 || totalSteps < 1 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("need 0 <= warm-up steps <= total steps, total >= 1: " + warmupSteps
                    + ", " + totalSteps);
        }
    }

    /** The learning rate of a step (1-based). */
    public double rate(long step) {
        if (step <= warmupSteps) {
            return peakRate * step / Math.max(1, warmupSteps);
        }
        if (step >= totalSteps) {
            return minRate;
        }
        double progress = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        return minRate + 0.5 * (peakRate - minRate) * (1 + Math.cos(Math.PI * progress));
    }
}
