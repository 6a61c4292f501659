package io.policylong.report;

import java.util.List;

/**
 * The curriculum of a run: per policy version what the job found and what changed; when the trainer's directory is
 * given, what the trainer learned from; with the job's metrics, how fast the job followed the versions. One
 * computation feeds both the JSON and the HTML page.
 *
 * @param versions one entry per version, ascending
 * @param trainer the trainer's side, or null
 * @param job what the job measured of its run (hot-swap latency, throughput), or null
 */
public record CurriculumReport(List<VersionCurriculum> versions, TrainerCurriculum trainer, JobTelemetry job) {
}
