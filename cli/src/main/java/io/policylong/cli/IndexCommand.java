package io.policylong.cli;

import io.policylong.records.JsonlDocuments;
import io.policylong.records.Document;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import io.policylong.pipeline.retrieval.ChunkIndexBuilder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code policylong index}: builds the fixed retrieval corpus as a Lucene index. */
@Command(name = "index", mixinStandardHelpOptions = true,
        description = {"Build the retrieval index: every document of the corpus is cut into chunks of about "
                + "--chunk-chars characters (paragraphs grouped, long ones cut at sentence ends), indexed for BM25 "
                + "with chunk id <doc id>#<n>, document id, stored text and token count."})
public final class IndexCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--corpus", required = true, paramLabel = "PATH",
            description = "A JSONL file of documents, or a directory of *.jsonl files.")
    Path corpus;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Index directory (replaced).")
    Path out;

    @Option(names = "--chunk-chars", defaultValue = "2048", paramLabel = "N",
            description = "Target chunk size in characters. Default: ${DEFAULT-VALUE}.")
    int chunkChars;

    @Option(names = "--tokenizer", required = true, paramLabel = "PATH",
            description = "tokenizer.json (or a checkpoint directory) whose tokens the chunk sizes are counted in.")
    Path tokenizer;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        IndexStats stats = build(corpus, out, chunkChars, tokenizer, err);
        err.printf("index: %d documents, %d chunks in %s (%d line(s) skipped)%n", stats.documents(), stats.chunks(),
                out, stats.skipped());
        return 0;
    }

    /** Counts of an index build. */
    record IndexStats(long documents, long chunks, int skipped) {
    }

    /** Builds an index, reporting skipped lines to {@code err}. */
    static IndexStats build(Path corpus, Path out, int chunkChars, Path tokenizerPath, PrintWriter err)
            throws Exception {
        List<String> problems = new ArrayList<>();
        List<Document> documents = JsonlDocuments.read(corpus, problems::add);
        problems.stream().limit(20).forEach(p -> err.println("index: skipped " + p));
        try (CheckpointTokenizer tokens = CheckpointTokenizer.load(tokenizerPath, false);
                ChunkIndexBuilder builder = new ChunkIndexBuilder(out, chunkChars,
                        text -> tokens.encodeIds(text, false).length)) {
            for (Document d : documents) {
                builder.add(d);
            }
            return new IndexStats(builder.documents(), builder.chunks(), problems.size());
        }
    }
}
