package io.policylong.serving;

import io.policylong.model.runtime.ComputeDevice;
import io.policylong.model.runtime.ComputePrecision;
import io.policylong.model.scoring.BatchingSettings;
import io.policylong.policy.CheckpointDigest;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong serve}: a checkpoint served as a policy version for entropy scoring over HTTP, following the
 * Open Inference Protocol v2 ({@link ScoringServer}); more versions load through the repository API or, with
 * {@code --policies}, on demand. SIGTERM (or Ctrl-C) drains: new requests are refused, accepted ones answered.
 */
@Command(name = "serve",
        description = {"Serve a checkpoint as a policy version for scoring over HTTP (Open Inference Protocol v2).",
            "Endpoints: GET /v2/health/live, /v2/health/ready, /v2/models/NAME[/versions/V]; POST "
                    + "/v2/models/NAME/versions/V/infer; POST /v2/repository/models/NAME/load|unload, "
                    + "/v2/repository/index; GET /metrics (Prometheus)."})
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--checkpoint", paramLabel = "DIR", description = "The checkpoint served from the start.")
    Path checkpoint;

    @Option(names = "--version", defaultValue = "0", paramLabel = "N",
            description = "The policy version --checkpoint is served as. Default: ${DEFAULT-VALUE}.")
    long version;

    @Option(names = "--policies", paramLabel = "DIR",
            description = "A checkpoints directory of policy descriptors: a request for a version that is not loaded "
                    + "loads it from its descriptor there (weights checked against its sha256).")
    Path policies;

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "Address to listen on (0.0.0.0 for every interface). Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", defaultValue = "8000", description = "Port (0: any free one). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--model-name", defaultValue = "policylong",
            description = "The model name in the protocol's paths. Default: ${DEFAULT-VALUE}.")
    String modelName;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "A file holding the bearer token every request but health and metrics must carry "
                    + "(Authorization: Bearer TOKEN).")
    Path tokenFile;

    @Option(names = "--max-versions", defaultValue = "2",
            description = "Versions kept loaded; loading one more unloads the lowest. Default: ${DEFAULT-VALUE}.")
    int maxVersions;

    @Option(names = "--max-request-tokens", defaultValue = "131072",
            description = "Most tokens in one request. Default: ${DEFAULT-VALUE}.")
    long maxRequestTokens;

    @Option(names = "--max-request-mib", defaultValue = "16",
            description = "Largest request body. Default: ${DEFAULT-VALUE}.")
    long maxRequestMib;

    @Option(names = "--request-timeout", defaultValue = "120", paramLabel = "SECONDS",
            description = "How long a request may wait for its scores unless it sets parameters.timeout_ms. "
                    + "Default: ${DEFAULT-VALUE}.")
    long requestTimeout;

    @Option(names = "--drain", defaultValue = "30", paramLabel = "SECONDS",
            description = "On SIGTERM, how long to answer the requests already accepted. Default: ${DEFAULT-VALUE}.")
    long drain;

    @Option(names = "--compute-dtype", defaultValue = "auto", paramLabel = "TYPE",
            description = "What the forward pass runs in: auto (float16 on a GPU, float32 on the CPU), float32 or "
                    + "float16; RMSNorm, the attention softmax, the log-softmax and the entropy stay in float32. "
                    + "Default: ${DEFAULT-VALUE}.")
    String computeDtype;

    @Mixin
    ScoringOptions scoring;

    /** Runs the command on its own (the scoring image's entry point), with the exit code as the process's. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new ServeCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (checkpoint == null && policies == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "give --checkpoint DIR (served as --version), --policies DIR (versions loaded on request), or both");
        }
        String token = null;
        if (tokenFile != null) {
            token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
            if (token.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), tokenFile + " is empty");
            }
        }
        ServerSettings settings = new ServerSettings(host, port, modelName, token, maxRequestMib << 20,
                maxRequestTokens, Duration.ofSeconds(requestTimeout), Duration.ofSeconds(drain));
        ai.djl.Device device = ComputeDevice.resolve(scoring.device);
        ComputePrecision precision;
        try {
            precision = ComputePrecision.parse(computeDtype, device);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--compute-dtype: " + e.getMessage());
        }
        ServedVersions versions = new ServedVersions(device, precision, scoring.chunks(),
                new BatchingSettings(scoring.maxBatchTokens, scoring.maxDelay(), scoring.queueCapacity), maxVersions,
                policies);
        ScoringServer server = new ScoringServer(settings, versions);
        if (checkpoint != null) {
            ServedVersions.Served served = versions.load(version, checkpoint.toAbsolutePath().toString(),
                    CheckpointDigest.weightsSha256(checkpoint)).join();
            err.printf("serve: version %d is %s (%s, %d layers, vocab %d) on %s in %s, loaded in %.1f s%n", version,
                    checkpoint, served.checkpoint().config().architecture().className(),
                    served.checkpoint().config().numLayers(), served.checkpoint().config().vocabSize(),
                    served.checkpoint().model().device(), precision.label(), served.loadSeconds());
        }
        server.start();
        err.printf("serve: listening on http://%s:%d/v2/models/%s (HTTP/1.1 and h2c)%s%s; metrics on /metrics%n",
                host, server.port(), modelName, policies == null ? "" : "; versions on request from " + policies,
                token == null ? "" : "; bearer token required");
        err.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Thread drainOnSignal = new Thread(() -> {
            err.printf("serve: stopping: answering the %d requests accepted (up to %d s), refusing new ones%n",
                    server.inFlight(), drain);
            err.flush();
            try {
                server.stop();
            } catch (Exception e) {
                err.println("serve: stopping failed: " + e);
            }
            err.printf("serve: stopped%n");
            err.flush();
            stopped.countDown();
        }, "serve-drain");
        Runtime.getRuntime().addShutdownHook(drainOnSignal);
        stopped.await();
        return 0;
    }
}
