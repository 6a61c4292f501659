package io.policylong.cli;

import io.policylong.records.InvalidRecordException;
import io.policylong.records.TrainingSample;
import io.policylong.report.CurriculumReport;
import io.policylong.report.CurriculumStats;
import io.policylong.report.JobTelemetry;
import io.policylong.report.ReportWriter;
import io.policylong.report.TrainerLogs;
import io.policylong.trainer.samples.CommittedSampleFiles;
import io.policylong.trainer.samples.SampleLog;
import io.policylong.trainer.samples.SamplesPosition;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong report}: the curriculum of a run per policy version, from the job's committed samples and,
 * optionally, the trainer's output directory, as {@code OUT/index.html} (with charts) and {@code OUT/report.json}.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Write the curriculum report of a run: per policy version the documents screened, anchors and "
                + "their entropy, positives and hard negatives with their dI, what changed from the version before "
                + "(positives gone stale, anchors learned, hard negatives turned positive), and with --trainer the "
                + "trainer's loss and the staleness of the samples it trained on, and with --metrics the job's hot-swap "
                + "latency and throughput.",
            "Writes OUT/index.html (self-contained, with charts) and OUT/report.json (the same numbers)."})
public final class ReportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--samples", required = true, paramLabel = "DIR",
            description = "The job's samples directory (its committed part files are read).")
    Path samples;

    @Option(names = "--trainer", paramLabel = "DIR", description = "The trainer's output directory (train --out).")
    Path trainer;

    @Option(names = "--metrics", paramLabel = "FILE",
            description = "The job's metrics of the run (loop writes them as job-metrics.json): hot-swap latency per "
                    + "version and throughput.")
    Path metrics;

    @Option(names = "--initial-version", defaultValue = "0",
            description = "The version of the checkpoint the trainer started from. Default: ${DEFAULT-VALUE}.")
    long initialVersion;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the report goes.")
    Path out;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        CurriculumReport report = write(samples, trainer, metrics, initialVersion, out, err::println);
        err.printf("report: %d versions, %s; %s%n", report.versions().size(), trainer == null ? "no trainer"
                : report.trainer().steps().size() + " trainer steps", out.resolve("index.html"));
        return 0;
    }

    /**
     * Computes and writes the report of a run.
     *
     * @param trainerDirectory the trainer's output directory, or null
     * @param metrics the job's metrics file ({@link JobTelemetry}), or null
     * @param problems receives one message per line of the samples that is not a sample
     */
    static CurriculumReport write(Path samplesDirectory, Path trainerDirectory, Path metrics, long initialVersion,
            Path out, Consumer<String> problems) throws Exception {
        List<TrainingSample> all = new ArrayList<>();
        try (SampleLog log = new CommittedSampleFiles(samplesDirectory, SamplesPosition.start())) {
            List<SampleLog.Line> lines;
            while (!(lines = log.next(1024)).isEmpty()) {
                for (SampleLog.Line line : lines) {
                    try {
                        all.add(TrainingSample.fromJson(line.text()));
                    } catch (InvalidRecordException e) {
                        problems.accept("report: skipped " + line.origin() + ": " + e.getMessage());
                    }
                }
            }
        }
        CurriculumReport report = new CurriculumReport(CurriculumStats.of(all),
                trainerDirectory == null ? null : TrainerLogs.read(trainerDirectory, initialVersion),
                metrics == null ? null : JobTelemetry.read(metrics));
        ReportWriter.write(report, out);
        return report;
    }
}
