package io.policylong.records;

import io.policylong.records.Document;
import io.policylong.records.InvalidRecordException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Reads documents from a JSONL file, or from every {@code *.jsonl} file of a directory (in name order), for
 * batch tools such as the index builder. Invalid lines are reported with file, line number and reason, and
 * skipped.
 */
public final class JsonlDocuments {
    private JsonlDocuments() {
    }

    /** The files a path stands for: itself, or the {@code *.jsonl} files directly inside it. */
    public static List<Path> files(Path fileOrDirectory) throws IOException {
        if (Files.isRegularFile(fileOrDirectory)) {
            return List.of(fileOrDirectory);
        }
        if (!Files.isDirectory(fileOrDirectory)) {
            throw new IOException(fileOrDirectory + ": no such file or directory");
        }
        try (Stream<Path> list = Files.list(fileOrDirectory)) {
            return list.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().toList();
        }
    }

    /** Reads every valid document, reporting the others to {@code problems}. */
    public static List<Document> read(Path fileOrDirectory, Consumer<String> problems) throws IOException {
        List<Document> documents = new ArrayList<>();
        for (Path file : files(fileOrDirectory)) {
            try (BufferedReader reader = new BufferedReader(new java.io.InputStreamReader(Files.newInputStream(file),
                    StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)))) {
                String line;
                int number = 0;
                while ((line = reader.readLine()) != null) {
                    number++;
                    if (line.isBlank()) {
                        continue;
                    }
                    try {
                        documents.add(Document.fromJson(line));
                    } catch (InvalidRecordException e) {
                        problems.accept(file + ":" + number + ": " + e.getMessage());
                    }
                }
            }
        }
        return documents;
    }
}
