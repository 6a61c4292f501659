package io.policylong.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.policylong.pipeline.operators.PipelineProgress;
import io.policylong.report.TrainerCurriculum;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The loop's progress line: the job's version and coverage, the trainer's step, announcements, samples and loss. */
class LoopProgressTest {
    private static final PipelineProgress.Snapshot JOB = new PipelineProgress.Snapshot(40, 12, 70, 1, 0, 9, 0.5);

    @Test
    void saysWhereTheJobAndTheTrainerAre() {
        TrainerCurriculum trainer = new TrainerCurriculum(List.of(
                new TrainerCurriculum.Step(19, 2.5, Double.NaN, Double.NaN, 0, 1, 0),
                new TrainerCurriculum.Step(20, 2.4, 2.6, 2.7, 0, 1, 0),
                new TrainerCurriculum.Step(21, 2.3, Double.NaN, Double.NaN, 1, 1, 1)), 0);
        assertEquals("loop: 3m05s; job: version 1, 12 of 40 documents screened under it; trainer: step 21 of 60, "
                + "1 of 3 versions announced, 3 samples trained on (the latest of version 1), loss 2.3000 (held-out "
                + "samples 2.7000 at step 20)", LoopProgress.line(Duration.ofSeconds(185), JOB, trainer, 0, 1, 60, 3));
    }

    @Test
    void beforeTheFirstStepTheTrainerWaits() {
        assertEquals("loop: 0m10s; job: no version yet; trainer: waiting for samples", LoopProgress.line(
                Duration.ofSeconds(10), new PipelineProgress.Snapshot(0, 0, 0, -1, 0, 0, 1),
                new TrainerCurriculum(List.of(), Double.NaN), 0, 0, 60, 3));
    }

    @Test
    void aStepOfMixedVersionsShowsTheirMean() {
        TrainerCurriculum trainer = new TrainerCurriculum(List.of(
                new TrainerCurriculum.Step(5, 2.0, Double.NaN, Double.NaN, 1, 2, 0.5)), 0.5);
        assertEquals("loop: 1m00s; job: version 1, 12 of 40 documents screened under it; trainer: step 5 of 60, "
                + "1 of 3 versions announced, 2 samples trained on (the latest of mean version 0.50), loss 2.0000",
                LoopProgress.line(Duration.ofSeconds(60), JOB, trainer, 0, 1, 60, 3));
    }
}
