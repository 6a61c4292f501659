package io.policylong.trainer.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Training sequences read from JSONL, one token array per line. A line may be a document
 * ({@code {"id", "text"}}), or a training sample of the pipeline: its {@code input_ids} when present,
 * otherwise the text of its {@code segments} joined by its {@code separator}. Lines that are none of these,
 * or whose ids fall outside the vocabulary, are reported and skipped.
 */
public final class TrainingTexts {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingTexts() {
    }

    /**
     * Reads and tokenizes every usable line of the files.
     *
     * @param problems receives one message per skipped line (file, line number, reason)
     */
    public static List<long[]> read(List<Path> files, CheckpointTokenizer tokenizer, int vocabSize,
            Consumer<String> problems) throws IOException {
        List<long[]> sequences = new ArrayList<>();
        for (Path file : files) {
            try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                String line;
                int number = 0;
                while ((line = reader.readLine()) != null) {
                    number++;
                    if (line.isBlank()) {
                        continue;
                    }
                    try {
                        long[] ids = tokens(line, tokenizer);
                        for (long id : ids) {
                            if (id < 0 || id >= vocabSize) {
                                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, "
                                        + vocabSize + ")");
                            }
                        }
                        if (ids.length >= 2) {
                            sequences.add(ids);
                        }
                    } catch (IllegalArgumentException e) {
                        problems.accept(file + ":" + number + ": " + e.getMessage());
                    }
                }
            }
        }
        return sequences;
    }

    static long[] tokens(String line, CheckpointTokenizer tokenizer) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        JsonNode ids = node.get("input_ids");
        if (ids != null && ids.isArray()) {
            long[] tokens = new long[ids.size()];
            for (int i = 0; i < tokens.length; i++) {
                if (!ids.get(i).canConvertToLong()) {
                    throw new IllegalArgumentException("input_ids[" + i + "] is not an integer");
                }
                tokens[i] = ids.get(i).asLong();
            }
            return tokens;
        }
        JsonNode text = node.get("text");
        if (text != null && text.isTextual()) {
            return tokenizer.encodeIds(text.asText());
        }
        JsonNode segments = node.get("segments");
        if (segments != null && segments.isArray()) {
            String separator = node.path("separator").asText("\n\n");
            StringBuilder joined = new StringBuilder();
            for (JsonNode segment : segments) {
                if (joined.length() > 0) {
                    joined.append(separator);
                }
                joined.append(segment.path("text").asText(""));
            }
            return tokenizer.encodeIds(joined.toString());
        }
        throw new IllegalArgumentException("neither input_ids, text nor segments");
    }
}
