package io.policylong.cli.local;

import io.policylong.connectors.files.SourceLine;
import io.policylong.pipeline.JobSettings;
import io.policylong.pipeline.KafkaTopicSetup;
import io.policylong.pipeline.ScreeningJobMain;
import io.policylong.pipeline.ScreeningTopology;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.operators.PipelineProgress;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Runs the screening job in a local Flink mini cluster inside this JVM (RocksDB state, exactly-once
 * checkpoints, web UI, a console summary of the metrics): the same dataflow a cluster runs from the job jar
 * ({@link ScreeningTopology}), with local defaults for what the configuration leaves out (parallelism 1, a
 * checkpoint every 10 s). Optionally stops itself once it is idle.
 */
public final class EmbeddedRunner {
    private static final int DEFAULT_PARALLELISM = 1;
    private static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(10);

    private final PipelineConfig config;
    private final PrintWriter console;
    private UnaryOperator<DataStream<SourceLine>> inputTap = lines -> lines;
    private String savepoint;
    private java.util.function.Consumer<JobClient> started = client -> { };

    /** @param config a configuration whose locations are resolved to URIs */
    public EmbeddedRunner(PipelineConfig config, PrintWriter console) {
        this.config = withLocalDefaults(config);
        this.console = console;
    }

    private static PipelineConfig withLocalDefaults(PipelineConfig config) {
        PipelineConfig.Runtime r = config.runtime();
        if (r.checkpointDirectory() == null) {
            throw new IllegalArgumentException("runtime.checkpoint-dir is required to run locally (Flink checkpoints "
                    + "and savepoints go there)");
        }
        PipelineConfig.Runtime runtime = new PipelineConfig.Runtime(
                r.parallelism() == null ? DEFAULT_PARALLELISM : r.parallelism(),
                r.checkpointInterval() == null ? DEFAULT_CHECKPOINT_INTERVAL : r.checkpointInterval(),
                r.checkpointDirectory(), r.webUi(), r.summaryInterval(), r.cacheDirectory());
        return new PipelineConfig(config.input(), config.policy(), config.retrieval(), config.screening(),
                config.assembly(), config.rescreen(), config.scoring(), config.output(), runtime, config.kafka());
    }

    /** Starts the job from a savepoint or retained checkpoint instead of empty state (null: empty). */
    public EmbeddedRunner restoringFrom(String savepoint) {
        this.savepoint = savepoint;
        return this;
    }

    /** Called with the job as soon as it is submitted (before {@link #run} waits for it to become idle). */
    public EmbeddedRunner onStarted(java.util.function.Consumer<JobClient> listener) {
        this.started = listener;
        return this;
    }

    /** Inserts a transformation between the document source and the job (tests inject faults here). */
    public EmbeddedRunner withInputTap(UnaryOperator<DataStream<SourceLine>> tap) {
        this.inputTap = tap;
        return this;
    }

    /**
     * The Flink configuration of the local cluster: the job's settings, the summary reporter, and every listener
     * on the web UI's address (loopback unless configured otherwise), with job submission through the web UI off
     * and cancelling only when configured.
     */
    public Configuration flinkConfiguration() {
        Configuration conf = JobSettings.of(config);
        PipelineConfig.WebUi web = config.runtime().webUi();
        conf.set(RestOptions.BIND_ADDRESS, web.address());
        conf.set(RestOptions.ADDRESS, web.address());
        conf.set(RestOptions.BIND_PORT, web.port() + "-" + (web.port() + 20));
        conf.set(JobManagerOptions.ADDRESS, web.address());
        conf.set(JobManagerOptions.BIND_HOST, web.address());
        conf.set(TaskManagerOptions.HOST, web.address());
        conf.set(TaskManagerOptions.BIND_HOST, web.address());
        conf.set(WebOptions.SUBMIT_ENABLE, false);
        conf.set(WebOptions.CANCEL_ENABLE, web.cancel());
        conf.setString("metrics.reporter.summary.factory.class", SummaryReporterFactory.class.getName());
        conf.setString("metrics.reporter.summary.interval", config.runtime().summaryInterval().toMillis() + " ms");
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        return conf;
    }

    /**
     * Starts the job. With {@code untilIdle}, waits until every document has been screened under the newest
     * version and nothing changed for that long, then stops the job with a final savepoint (which commits the
     * last samples); without it, returns the running job.
     */
    public JobClient run(Duration untilIdle) throws Exception {
        String address = config.runtime().webUi().address();
        if (!java.net.InetAddress.getByName(address).isLoopbackAddress()) {
            console.printf("run: WARNING: the web UI and the cluster's endpoints listen on %s, reachable from other "
                    + "machines; anyone who can reach them can see the job%s%n", address,
                    config.runtime().webUi().cancel() ? " and cancel it" : "");
            console.flush();
        }
        return run(StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(flinkConfiguration()), untilIdle);
    }

    /** Runs the job on a given environment (a test cluster, for example); see {@link #run(Duration)}. */
    public JobClient run(StreamExecutionEnvironment env, Duration untilIdle) throws Exception {
        PipelineProgress.reset();
        env.configure(JobSettings.of(config));
        KafkaTopicSetup.prepare(config, line -> {
            console.println("run: " + line);
            console.flush();
        });
        String destinations = ScreeningTopology.build(env, config, inputTap);
        JobClient client = env.executeAsync(ScreeningJobMain.JOB_NAME);
        started.accept(client);
        PipelineConfig.WebUi web = config.runtime().webUi();
        console.printf("run: job %s started; %s, Flink checkpoints -> %s; web UI on http://%s:%d (or the next free "
                + "port)%n", client.getJobID(), destinations, config.runtime().checkpointDirectory(), web.address(),
                web.port());
        console.flush();
        if (untilIdle == null) {
            return client;
        }
        stopWhenIdle(client, untilIdle);
        return client;
    }

    /**
     * Waits until every document of the started job has been screened under the newest version and nothing changed
     * for {@code untilIdle}, then stops it with a final savepoint (which commits the last samples) and prints what
     * the run did.
     */
    public void stopWhenIdle(JobClient client, Duration untilIdle) throws Exception {
        // A restored job may have nothing left to do: its documents are in its state, not in this JVM's progress.
        PipelineProgress.waitUntilIdle(client, untilIdle, savepoint != null);
        String savepoint = stopWithSavepoint(client);
        PipelineProgress.Snapshot s = PipelineProgress.snapshot();
        if (s.documents() == 0) {
            console.printf("run: idle for %s: nothing left to screen since the state it resumed from; stopped with "
                    + "savepoint %s%n", untilIdle, savepoint);
        } else {
            console.printf("run: idle for %s: %d documents, all screened under the newest version %d (%d screenings "
                    + "committed); stopped with savepoint %s%n", untilIdle, s.documents(), s.latestVersion(),
                    s.committed(), savepoint);
        }
        PipelineProgress.Throughput t = PipelineProgress.throughput();
        console.printf(java.util.Locale.ROOT, "run: %d screenings committed in %.1f s (%.2f per second): %d document "
                + "tokens scored (%.0f per second), %d tokens through the model in all (%.0f per second), %d "
                + "positives%s%n", t.screenings(), t.seconds(), t.screenings() / Math.max(t.seconds(), 1e-9),
                t.documentTokens(), t.documentTokens() / Math.max(t.seconds(), 1e-9), t.forwardTokens(),
                t.forwardTokens() / Math.max(t.seconds(), 1e-9), t.positives(), t.positives() == 0 ? ""
                        : String.format(java.util.Locale.ROOT, " (%d model tokens per positive)",
                                t.forwardTokens() / t.positives()));
        PipelineProgress.versionLatencies().forEach((version, latency) -> console.printf("run: version %d: first "
                + "screening committed %.1f s after its announcement%n", version, latency.toMillis() / 1000.0));
        console.flush();
    }


    /**
     * Stops the job with a savepoint; tried again while some task of a just-(re)started job is not running yet
     * (a savepoint needs every task).
     */
    private static String stopWithSavepoint(JobClient client) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return client.stopWithSavepoint(false, null, SavepointFormatType.CANONICAL).get();
            } catch (java.util.concurrent.ExecutionException e) {
                String message = String.valueOf(e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
                if (attempt >= 30 || !message.contains("Not all required tasks are currently running")) {
                    throw e;
                }
                Thread.sleep(1000);
            }
        }
    }
}
