package io.policylong.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.policylong.model.checkpoint.RandomCheckpoint;
import io.policylong.model.config.Architecture;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.ModelFlops;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.runtime.ComputeDevice;
import io.policylong.model.runtime.DecoderModel;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.scoring.EntropyScorer;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.serving.ScoringOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong bench score}: scored tokens per second, model FLOP/s and peak memory of the scorer for a
 * grid of batch sizes and lengths, next to the machine's float32 matrix-multiply peak measured through the
 * same engine. The ratio of the two says how close scoring comes to what the hardware can do.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Benchmark the entropy scorer on random tiny and mid-size (~100M) models.")
public final class BenchScoreCommand implements Callable<Integer> {
    /** The bundled example's shape: byte-level vocabulary, two layers. */
    static final ModelConfig TINY = new ModelConfig(Architecture.QWEN2, 259, 64, 192, 2, 4, 2, 16, 1e-6, 10000.0,
            true, true, false, false, 4096, new RopeScaling.None());
    /** About 100M parameters with a 32k vocabulary (Llama-style shape, grouped-query attention, tied). */
    static final ModelConfig MID = new ModelConfig(Architecture.QWEN2, 32000, 768, 2048, 12, 12, 4, 64, 1e-6,
            1000000.0, true, true, false, false, 32768, new RopeScaling.None());

    @Spec
    CommandSpec spec;

    @Option(names = "--models", split = ",", defaultValue = "tiny,mid", paramLabel = "NAME",
            description = "Models to run: tiny, mid. Default: ${DEFAULT-VALUE}.")
    List<String> models;

    @Option(names = "--lengths", split = ",", defaultValue = "128,512,2048,8192", paramLabel = "N",
            description = "Sequence lengths. Default: ${DEFAULT-VALUE}.")
    List<Integer> lengths;

    @Option(names = "--batch-sizes", split = ",", defaultValue = "1,8", paramLabel = "N",
            description = "Sequences per forward pass. Default: ${DEFAULT-VALUE}.")
    List<Integer> batchSizes;

    @Option(names = "--max-tokens", defaultValue = "16384", paramLabel = "N",
            description = "Skip combinations with more tokens per forward than this. Default: ${DEFAULT-VALUE}.")
    long maxTokens;

    @Option(names = "--min-seconds", defaultValue = "3", paramLabel = "S",
            description = "Repeat each measurement until at least this long has passed. Default: ${DEFAULT-VALUE}.")
    double minSeconds;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Where the random checkpoints are written (default: a temporary directory).")
    Path workDir;

    @Mixin
    ScoringOptions scoring;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Device device = ComputeDevice.resolve(scoring.device);
        Path dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("policylong-bench");
        out.printf("machine: %d CPU threads available to the JVM, %s %s, device %s, engine threads %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"),
                System.getProperty("os.arch"), device,
                System.getProperty("ai.djl.pytorch.num_threads", "(engine default)"));
        Runtime jvm = Runtime.getRuntime();
        if (jvm.totalMemory() < jvm.maxMemory()) {
            out.printf("note: the Java heap can still grow (%d of %d MiB committed); for RSS growth that counts only "
                    + "the engine's memory, run with JAVA_OPTS=\"-Xms<heap> -XX:+AlwaysPreTouch\"%n",
                    jvm.totalMemory() >> 20, jvm.maxMemory() >> 20);
        }
        double peak = matmulPeak(device, out);
        out.printf("float32 matmul peak: %.1f GFLOP/s%n%n", peak / 1e9);
        out.printf("| model | params | batch | length | tokens/s | model GFLOP/s | ratio to peak | peak RSS MiB "
                + "| RSS growth MiB |%n|---|---|---|---|---|---|---|---|---|%n");
        for (String name : models) {
            ModelConfig config = switch (name) {
                case "tiny" -> TINY;
                case "mid" -> MID;
                default -> throw new IllegalArgumentException("unknown model '" + name + "' (tiny or mid)");
            };
            Path checkpoint = dir.resolve(name);
            if (!Files.exists(checkpoint.resolve("config.json"))) {
                RandomCheckpoint.write(checkpoint, config, RandomCheckpoint.tensors(config, 1, 1.0),
                        SafetensorsDType.BF16, 0, null);
            }
            try (DecoderModel model = DecoderModel.load(checkpoint, device)) {
                EntropyScorer scorer = new EntropyScorer(model, scoring.chunks(), Long.MAX_VALUE);
                for (int length : lengths) {
                    for (int batch : batchSizes) {
                        if ((long) batch * length > maxTokens) {
                            continue;
                        }
                        measure(out, name, config, scorer, batch, length);
                    }
                }
            }
        }
        return 0;
    }

    private void measure(PrintWriter out, String name, ModelConfig config, EntropyScorer scorer, int batch,
            int length) throws IOException {
        SplittableRandom random = new SplittableRandom(length * 31L + batch);
        List<ScoreRequest> requests = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            long[] ids = new long[length];
            for (int i = 0; i < length; i++) {
                ids[i] = random.nextInt(config.vocabSize());
            }
            requests.add(ScoreRequest.allPositions(ids));
        }
        System.gc();
        ProcessMemory.releaseFreeMemory();
        long baseline = ProcessMemory.residentBytes();
        ProcessMemory.resetPeak();
        scorer.score(requests); // warm-up, not timed
        int runs = 0;
        long start = System.nanoTime();
        double elapsed;
        do {
            scorer.score(requests);
            runs++;
            elapsed = (System.nanoTime() - start) / 1e9;
        } while (elapsed < minSeconds);
        long peakRss = ProcessMemory.peakResidentBytes();
        double tokensPerSecond = (double) batch * length * runs / elapsed;
        double flops = ModelFlops.forward(config, length, length - 1) * batch * runs / elapsed;
        out.printf("| %s | %.1fM | %d | %d | %.0f | %.1f | %.2f | %.0f | %.0f |%n", name,
                config.parameterCount() / 1e6, batch, length, tokensPerSecond, flops / 1e9, flops / peakFlops,
                peakRss / 1048576.0, Math.max(0, peakRss - baseline) / 1048576.0);
        out.flush();
    }

    private double peakFlops;

    /** Best float32 GFLOP/s of a square matrix multiply through the engine, over a few sizes. */
    private double matmulPeak(Device device, PrintWriter out) {
        double best = 0;
        try (NDManager manager = NDManager.newBaseManager(device)) {
            for (int n : new int[] {1024, 2048, 4096}) {
                NDArray a = manager.randomNormal(new Shape(n, n));
                NDArray b = manager.randomNormal(new Shape(n, n));
                a.matMul(b).close();
                int runs = 0;
                long start = System.nanoTime();
                double elapsed;
                do {
                    try (NDArray c = a.matMul(b)) {
                        c.getFloat(0, 0); // forces completion on asynchronous devices
                    }
                    runs++;
                    elapsed = (System.nanoTime() - start) / 1e9;
                } while (elapsed < 1.0);
                double flops = 2.0 * n * n * n * runs / elapsed;
                out.printf("matmul %dx%d: %.1f GFLOP/s%n", n, n, flops / 1e9);
                best = Math.max(best, flops);
                a.close();
                b.close();
            }
        }
        peakFlops = best;
        return best;
    }
}
