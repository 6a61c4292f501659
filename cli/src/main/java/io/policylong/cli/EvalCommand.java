package io.policylong.cli;

import io.policylong.evaluation.EvalReport;
import io.policylong.evaluation.Haystack;
import io.policylong.evaluation.ProbeEvaluation;
import io.policylong.evaluation.ProbeGenerator;
import io.policylong.evaluation.ProbeScorer;
import io.policylong.evaluation.ProbeTask;
import io.policylong.model.runtime.ComputeDevice;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import io.policylong.records.Document;
import io.policylong.records.JsonlDocuments;
import io.policylong.serving.ScoringOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong eval}: RULER-style long-context probes on a checkpoint, built from a corpus as haystacks and
 * scored teacher-forced and, unless told not to, by greedy decoding; a table on the console, {@code eval.json} and
 * an HTML page with plots.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a checkpoint on synthetic long-context probes (needles in a haystack, variable "
                + "tracking, frequent words, key-value retrieval).",
            "Per task and length: the answer's log-probability per token with its 95% confidence interval, the same "
                    + "with the needle removed (the control) and the difference, how often the answer's first token is "
                    + "the most likely one, and the greedy answers' string-match-all score."})
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "DIR",
            description = "The checkpoint (with its tokenizer.json).")
    Path checkpoint;

    @Option(names = "--tasks", split = ",", defaultValue = "all", paramLabel = "TASK",
            description = "Tasks: all, or some of niah_single, niah_multikey, niah_multivalue, niah_multiquery, "
                    + "variable_tracking, frequent_words, kv_retrieval. Default: ${DEFAULT-VALUE}.")
    List<String> tasks;

    @Option(names = "--lengths", split = ",", defaultValue = "512,1024,2048", paramLabel = "TOKENS",
            description = "Prompt lengths in the checkpoint's tokens. Default: ${DEFAULT-VALUE}.")
    List<Integer> lengths;

    @Option(names = "--probes", defaultValue = "20", description = "Probes per task and length. Default: "
            + "${DEFAULT-VALUE}.")
    int probes;

    @Option(names = "--seed", defaultValue = "1", description = "Fixes every probe. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--haystack", defaultValue = "data/corpus/held-out.jsonl", paramLabel = "JSONL",
            description = "Documents whose sentences the needles hide in. Default: ${DEFAULT-VALUE}.")
    Path haystack;

    @Option(names = "--no-greedy", description = "Score teacher-forced only (greedy decoding runs the model once per "
            + "generated token).")
    boolean noGreedy;

    @Option(names = "--out", defaultValue = "out/eval", paramLabel = "DIR",
            description = "Where eval.json and index.html go. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Mixin
    ScoringOptions scoring;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (probes < 1 || lengths.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--probes and --lengths need at least one");
        }
        List<ProbeTask> chosen;
        try {
            chosen = ProbeTask.of(tasks);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--tasks: " + e.getMessage());
        }
        if (!Files.exists(haystack)) {
            throw new CommandLine.ParameterException(spec.commandLine(), haystack + " does not exist (for the bundled "
                    + "corpus: scripts/fetch-corpora.sh && bin/policylong corpus --out data/corpus)");
        }
        List<Document> documents = JsonlDocuments.read(haystack, problem -> err.println("eval: skipped " + problem));
        try (LoadedCheckpoint loaded = LoadedCheckpoint.load(checkpoint, ComputeDevice.resolve(scoring.device),
                scoring.chunks(), scoring.maxBatchTokens)) {
            CheckpointTokenizer tokenizer = loaded.tokenizer();
            int window = loaded.config().maxPositionEmbeddings();
            for (int length : lengths) {
                if (length > window) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--lengths: " + length + " is more "
                            + "than the checkpoint's " + window + " positions");
                }
            }
            ProbeGenerator generator = new ProbeGenerator(Haystack.of(documents.stream().map(Document::text).toList()),
                    text -> tokenizer.encodeIds(text, false).length, seed);
            ProbeScorer scorer = ProbeScorer.of(loaded, scoring.chunks(), !noGreedy);
            err.printf("eval: %s, %d tasks at %s tokens, %d probes each, seed %d%s%n", checkpoint, chosen.size(),
                    lengths, probes, seed, noGreedy ? ", teacher-forced only" : "");
            err.flush();
            EvalReport report = ProbeEvaluation.run(checkpoint.toString(), generator, scorer, chosen, lengths, probes,
                    seed, line -> {
                        err.println("eval: " + line);
                        err.flush();
                    });
            report.write(out);
            spec.commandLine().getOut().print(report.table());
            spec.commandLine().getOut().flush();
            err.printf("eval: %s and %s%n", out.resolve("eval.json"), out.resolve("index.html"));
        }
        return 0;
    }
}
