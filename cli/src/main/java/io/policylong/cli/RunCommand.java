package io.policylong.cli;

import io.policylong.policy.PolicyDescriptorFiles;
import io.policylong.records.PolicyUpdate;
import io.policylong.cli.local.EmbeddedRunner;
import io.policylong.cli.local.RunHistory;
import io.policylong.pipeline.config.Locations;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.policy.CheckpointAnnouncer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.flink.core.execution.JobClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong run}: the screening job in a local Flink mini cluster. Builds the retrieval index first
 * when it is missing, and announces the configured initial checkpoint as version 0 when the checkpoints
 * directory has no policy yet.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the on-policy screening job locally (Flink mini cluster, RocksDB state, web UI).",
            "Documents: the configured JSONL; policies: descriptors in the watched checkpoints directory (announce "
                    + "new ones with `train --announce-dir` or `publish-checkpoint`); samples and dead letters: JSONL "
                    + "part files committed on Flink checkpoints. A summary line of the metrics is printed "
                    + "periodically."})
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The job configuration (YAML).")
    Path config;

    @Option(names = "--until-idle", paramLabel = "SECONDS",
            description = "Stop once every document has been screened under the newest version and nothing changed "
                    + "for this long (the final samples are committed). Without it the job keeps running.")
    Long untilIdle;

    @Option(names = "--from-savepoint", paramLabel = "PATH",
            description = "Start from this savepoint or retained checkpoint (the path `run` prints when it stops): "
                    + "stored documents, the current policy and source positions carry over.")
    String fromSavepoint;

    @Option(names = "--fresh",
            description = "Start with empty state even when the checkpoint directory holds checkpoints of an earlier "
                    + "run (by default `run` resumes from the newest one, and refuses when the configuration has "
                    + "changed). The input is then read from the start again, so samples already committed are "
                    + "written again.")
    boolean fresh;

    /** The checkpoint directory of a local run, which must be on this machine for runs to resume. */
    private static String requireLocalCheckpoints(PipelineConfig pipeline) {
        String directory = pipeline.runtime().checkpointDirectory();
        if (directory == null) {
            throw new IllegalArgumentException("runtime.checkpoint-dir is required to run locally");
        }
        if (!Locations.isLocal(directory)) {
            throw new IllegalArgumentException("runtime.checkpoint-dir must be a local directory for `run` (it resumes "
                    + "from its checkpoints), not " + directory);
        }
        return directory;
    }

    /**
     * Everything before a local run starts: builds the retrieval index when it is missing, announces the initial
     * checkpoint unless it is current, and finds the checkpoint of an earlier run to resume from (refusing one whose
     * configuration changed).
     *
     * @param fresh start with empty state whatever earlier runs left
     * @param fromSavepoint a savepoint or retained checkpoint to start from, or null
     * @return the runner, ready to start
     */
    static EmbeddedRunner prepare(PipelineConfig pipeline, boolean fresh, String fromSavepoint, PrintWriter err)
            throws Exception {
        Path index = Locations.isLocal(pipeline.retrieval().index())
                ? Locations.localPath(pipeline.retrieval().index()) : null;
        Path initial = pipeline.policy().initialCheckpoint() == null ? null
                : Locations.localPath(pipeline.policy().initialCheckpoint());
        if (index != null && !Files.isDirectory(index)) {
            if (pipeline.retrieval().corpus() == null || initial == null) {
                throw new IllegalArgumentException(index + " does not exist; build it with `policylong index` (or set "
                        + "retrieval.corpus and policy.initial-checkpoint so that run builds it)");
            }
            err.printf("run: building the retrieval index %s from %s%n", index, pipeline.retrieval().corpus());
            err.flush();
            IndexCommand.IndexStats stats = IndexCommand.build(Locations.localPath(pipeline.retrieval().corpus()), index,
                    pipeline.retrieval().chunkChars(), initial, err);
            err.printf("run: index has %d chunks of %d documents%n", stats.chunks(), stats.documents());
        }
        Path checkpoints = pipeline.policy().checkpoints() == null || !Locations.isLocal(pipeline.policy().checkpoints())
                ? null : Locations.localPath(pipeline.policy().checkpoints());
        if (checkpoints == null) {
            if (initial != null) {
                throw new IllegalArgumentException("policy.initial-checkpoint needs policy.checkpoints to announce it "
                        + "in; with Kafka alone, announce it with `publish-checkpoint --kafka`");
            }
        } else if (initial == null) {
            if (PolicyDescriptorFiles.latestVersion(checkpoints).isEmpty()) {
                err.printf("run: %s has no policy yet; documents wait until one is announced%n", checkpoints);
            }
        } else {
            Optional<PolicyUpdate> update =
                    new CheckpointAnnouncer(checkpoints, "initial").announceUnlessCurrent(initial);
            if (update.isPresent()) {
                long version = update.get().version();
                err.printf("run: announced %s as policy version %d in %s%s%n", initial, version, checkpoints,
                        version == 0 ? "" : " (its weights changed since version " + (version - 1) + " announced it)");
                err.printf("run: sha256 %s%n", update.get().sha256());
            }
        }
        if (!pipeline.usesKafka() && Locations.isLocal(pipeline.input().documents())
                && !Files.exists(Locations.localPath(pipeline.input().documents()))) {
            throw new IllegalArgumentException(pipeline.input().documents() + " does not exist (for the bundled corpus: "
                    + "scripts/fetch-corpora.sh && bin/policylong corpus --out data/corpus)");
        }
        err.flush();
        RunHistory history = RunHistory.open(Locations.localPath(requireLocalCheckpoints(pipeline)));
        Map<String, String> settings = RunHistory.settingsOf(pipeline);
        String restore = fromSavepoint;
        if (fresh) {
            history.forget();
        } else if (restore == null && history.hasJob()) {
            Optional<Path> point = history.newestRestorePoint();
            if (point.isPresent()) {
                List<String> changes = history.changes(settings);
                if (!changes.isEmpty()) {
                    throw new IllegalArgumentException("the configuration changed since the run whose checkpoints are "
                            + "in " + pipeline.runtime().checkpointDirectory() + " (" + String.join("; ", changes)
                            + "): resuming it could mix two jobs. Start anew with --fresh (samples already committed "
                            + "are then written again), or restore explicitly with --from-savepoint PATH");
                }
                restore = point.get().toUri().toString();
                err.printf("run: resuming from %s, the newest checkpoint of the previous run (--fresh starts anew)%n",
                        point.get());
            }
        }
        err.flush();
        EmbeddedRunner runner = new EmbeddedRunner(pipeline, err).restoringFrom(restore).onStarted(client -> {
            try {
                history.record(settings, client.getJobID().toHexString());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("could not record the run in "
                        + pipeline.runtime().checkpointDirectory(), e);
            }
        });
        return runner;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PipelineConfig pipeline = PipelineConfig.load(config).withLocationsResolvedAgainst(Path.of(""));
        EmbeddedRunner runner = prepare(pipeline, fresh, fromSavepoint, err);
        JobClient client = runner.run(untilIdle == null ? null : Duration.ofSeconds(untilIdle));
        if (untilIdle == null) {
            err.println("run: running until interrupted (Ctrl-C)");
            err.flush();
            client.getJobExecutionResult().get();
        }
        return 0;
    }
}
