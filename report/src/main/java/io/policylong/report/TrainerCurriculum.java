package io.policylong.report;

import java.util.List;

/**
 * What the trainer learned from, step by step: its loss, the newest version it had announced before the step,
 * and how stale the samples it trained on were (that version minus each sample's version: the staleness the job
 * cannot see).
 *
 * @param steps one entry per logged step
 * @param meanStaleness mean staleness over every row trained on, NaN without rows
 */
public record TrainerCurriculum(List<Step> steps, double meanStaleness) {
    /**
     * @param step the step
     * @param trainLoss training loss (nats per token), NaN when not logged
     * @param heldOutLoss loss on held-out text at a checkpoint, NaN otherwise
     * @param heldOutSampleLoss loss on held-out samples at a checkpoint, NaN otherwise
     * @param newestVersion the newest version the trainer had announced before the step, -1 before any
     * @param rows rows trained on
     * @param meanSampleVersion mean version of those rows' samples, NaN without rows
     */
    public record Step(long step, double trainLoss, double heldOutLoss, double heldOutSampleLoss, long newestVersion,
            long rows,
            double meanSampleVersion) {
    }
}
