package io.policylong.report;

import java.util.List;

/**
 * The curriculum of a run: per policy version what the job found and what changed, and, when the trainer's
 * directory is given, what the trainer learned from. One computation feeds both the JSON and the HTML page.
 *
 * @param versions one entry per version, ascending
 * @param trainer the trainer's side, or null
 */
public record CurriculumReport(List<VersionCurriculum> versions, TrainerCurriculum trainer) {
}
