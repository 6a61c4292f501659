package io.policylong.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.policylong.model.runtime.ComputeDevice;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.scoring.MicroBatcher;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.serving.ScoringOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong score}: per-token entropy and log-probability of every line of a JSONL file under one
 * checkpoint. Output lines follow input order; a bad line is reported with its line number and skipped.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {
            "Score every sequence of a JSONL file with a checkpoint.",
            "Input lines: {\"id\": ..., \"input_ids\": [...]} or {\"id\": ..., \"text\": \"...\"}.",
            "Output lines: {\"id\", \"input_ids\", \"entropy\", \"logprob\"}; for n tokens both arrays have n-1 "
                    + "entries: entropy[i] (nats) of the distribution of token i+1 given tokens 0..i, and the "
                    + "log-probability of the actual token i+1.",
            "Exit code 0 when every line was scored, 1 when any line failed (each is reported on stderr)."})
public final class ScoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "DIR",
            description = "Checkpoint directory: config.json, model.safetensors (or shards with their index) "
                    + "and tokenizer.json (needed for text input).")
    Path checkpoint;

    @Option(names = "--input", required = true, paramLabel = "IN.jsonl", description = "Input JSONL file, or - for stdin.")
    String input;

    @Option(names = "--output", required = true, paramLabel = "OUT.jsonl",
            description = "Output JSONL file, or - for stdout.")
    String output;

    @Mixin
    ScoringOptions scoring;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        long started = System.nanoTime();
        Tally tally = new Tally();
        try (LoadedCheckpoint loaded = LoadedCheckpoint.load(checkpoint, ComputeDevice.resolve(scoring.device),
                        scoring.chunks(), scoring.maxBatchTokens);
                MicroBatcher batcher = new MicroBatcher(loaded.scorer(), loaded.scorer()::validate,
                        scoring.maxBatchTokens, scoring.maxDelay(), scoring.queueCapacity, "score-batcher");
                Utf8LineReader reader = openInput();
                OutputStream out = openOutput();
                JsonGenerator json = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)
                        .setRootValueSeparator(null)) {
            err.printf("score: %s (%s, %d layers, vocab %d) on %s%n", checkpoint,
                    loaded.config().architecture().className(), loaded.config().numLayers(),
                    loaded.config().vocabSize(), loaded.model().device());
            Deque<Pending> pending = new ArrayDeque<>();
            int window = Math.max(2 * scoring.queueCapacity, 16);
            Utf8LineReader.Line line;
            while ((line = reader.next()) != null) {
                int lineNumber = line.number();
                if (line.invalid()) {
                    err.printf("line %d: %s%n", lineNumber, line.problem());
                    tally.failed++;
                    continue;
                }
                if (line.text().isBlank()) {
                    continue;
                }
                ScoreInputLine parsed;
                try {
                    parsed = ScoreInputLine.parse(line.text(), loaded.hasTokenizer() ? loaded.tokenizer() : null);
                } catch (IllegalArgumentException e) {
                    err.printf("line %d: %s%n", lineNumber, e.getMessage());
                    tally.failed++;
                    continue;
                }
                pending.add(new Pending(lineNumber, parsed,
                        batcher.submit(ScoreRequest.allPositions(parsed.tokenIds()))));
                while (!pending.isEmpty() && (pending.size() > window || pending.peek().future().isDone())) {
                    write(pending.poll(), json, err, tally);
                }
            }
            while (!pending.isEmpty()) {
                write(pending.poll(), json, err, tally);
            }
            json.flush();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        err.printf("score: %d sequences (%d tokens) scored in %.1f s, %d line(s) failed; output: %s%n", tally.scored,
                tally.tokens, seconds, tally.failed, output);
        return tally.failed == 0 ? 0 : 1;
    }

    /** Counts of what happened to the input lines. */
    private static final class Tally {
        int scored;
        int failed;
        long tokens;
    }

    private record Pending(int lineNumber, ScoreInputLine line, CompletableFuture<ScoreResult> future) {
    }

    /** Waits for a line's result and writes it, or reports why it failed. */
    private static void write(Pending p, JsonGenerator json, PrintWriter err, Tally tally) throws IOException,
            InterruptedException {
        ScoreResult result;
        try {
            result = p.future().get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            err.printf("line %d: record %s could not be scored: %s%n", p.lineNumber(), p.line().id(),
                    cause.getMessage());
            tally.failed++;
            return;
        }
        long[] ids = p.line().tokenIds();
        json.writeStartObject();
        json.writeStringField("id", p.line().id());
        json.writeFieldName("input_ids");
        json.writeArray(ids, 0, ids.length);
        json.writeFieldName("entropy");
        writeFloats(json, result.entropy());
        json.writeFieldName("logprob");
        writeFloats(json, result.logprob());
        json.writeEndObject();
        json.writeRaw('\n');
        tally.scored++;
        tally.tokens += ids.length;
    }

    private static void writeFloats(JsonGenerator json, float[] values) throws IOException {
        json.writeStartArray();
        for (float v : values) {
            json.writeNumber(v);
        }
        json.writeEndArray();
    }

    private Utf8LineReader openInput() throws IOException {
        if (input.equals("-")) {
            return new Utf8LineReader(System.in);
        }
        return new Utf8LineReader(Files.newInputStream(Path.of(input)));
    }

    private OutputStream openOutput() throws IOException {
        if (output.equals("-")) {
            return new java.io.FilterOutputStream(System.out) {
                @Override
                public void close() throws IOException {
                    flush(); // never close stdout
                }
            };
        }
        Path path = Path.of(output);
        if (path.getParent() != null) {
            Files.createDirectories(path.getParent());
        }
        return new java.io.BufferedOutputStream(Files.newOutputStream(path));
    }
}
