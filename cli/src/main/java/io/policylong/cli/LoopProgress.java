package io.policylong.cli;

import io.policylong.pipeline.operators.PipelineProgress;
import io.policylong.report.TrainerCurriculum;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The console line {@code loop} prints now and then: where the job is (its current version and how many documents
 * are screened under it) and where the trainer is (step, versions announced, samples trained on and the version of
 * the latest, its training loss and its loss on held-out samples).
 */
final class LoopProgress {
    private LoopProgress() {
    }

    /**
     * @param initialVersion the version of the checkpoint the trainer started from
     * @param newestAnnounced the newest version announced so far (the checkpoints directory's)
     * @param totalSteps the trainer's steps in all
     * @param versions the versions the trainer is to announce
     */
    static String line(Duration elapsed, PipelineProgress.Snapshot job, TrainerCurriculum trainer,
            long initialVersion, long newestAnnounced, long totalSteps, int versions) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "loop: %dm%02ds; job: ",
                elapsed.toMinutes(), elapsed.toSecondsPart()));
        if (job.latestVersion() < 0) {
            line.append("no version yet");
        } else {
            line.append(String.format(Locale.ROOT, "version %d, %d of %d documents screened under it",
                    job.latestVersion(), job.upToDate(), job.documents()));
        }
        List<TrainerCurriculum.Step> steps = trainer.steps();
        if (steps.isEmpty()) {
            return line.append("; trainer: waiting for samples").toString();
        }
        TrainerCurriculum.Step last = steps.get(steps.size() - 1);
        long rows = 0;
        double latestSamples = Double.NaN;
        for (TrainerCurriculum.Step s : steps) {
            rows += s.rows();
            if (s.rows() > 0) {
                latestSamples = s.meanSampleVersion();
            }
        }
        long announced = Math.max(0, newestAnnounced - initialVersion);
        line.append(String.format(Locale.ROOT, "; trainer: step %d of %d, %d of %d versions announced, %d samples "
                + "trained on", last.step(), totalSteps, announced, versions, rows));
        if (!Double.isNaN(latestSamples)) {
            line.append(latestSamples == Math.rint(latestSamples)
                    ? String.format(Locale.ROOT, " (the latest of version %d)", (long) latestSamples)
                    : String.format(Locale.ROOT, " (the latest of mean version %.2f)", latestSamples));
        }
        if (Double.isFinite(last.trainLoss())) {
            line.append(String.format(Locale.ROOT, ", loss %.4f", last.trainLoss()));
        }
        for (int i = steps.size() - 1; i >= 0; i--) {
            if (Double.isFinite(steps.get(i).heldOutSampleLoss())) {
                line.append(String.format(Locale.ROOT, " (held-out samples %.4f at step %d)",
                        steps.get(i).heldOutSampleLoss(), steps.get(i).step()));
                break;
            }
        }
        return line.toString();
    }
}
