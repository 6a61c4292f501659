package io.policylong.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.model.checkpoint.InvalidCheckpointException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;

/** Facts read directly from a {@code tokenizer.json}. */
public final class TokenizerFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerFiles() {
    }

    /**
     * The number of token ids the tokenizer can produce: one more than the largest id in the model vocabulary
     * and the added tokens. A new model for this tokenizer needs at least this many embedding rows.
     */
    public static int vocabularySize(Path tokenizerJson) throws InvalidCheckpointException {
        JsonNode root;
        try {
            root = JSON.readTree(tokenizerJson.toFile());
        } catch (IOException e) {
            throw new InvalidCheckpointException(tokenizerJson + ": cannot read tokenizer: " + e.getMessage(), e);
        }
        long max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        for (Iterator<JsonNode> it = vocab.elements(); it.hasNext(); ) {
            JsonNode id = it.next();
            // BPE and WordLevel map token -> id; Unigram lists [token, score] pairs whose index is the id.
            max = Math.max(max, id.isArray() ? -1 : id.asLong(-1));
        }
        if (vocab.isArray()) {
            max = Math.max(max, vocab.size() - 1L);
        }
        for (JsonNode added : root.path("added_tokens")) {
            max = Math.max(max, added.path("id").asLong(-1));
        }
        if (max < 0) {
            throw new InvalidCheckpointException(tokenizerJson + ": no vocabulary found");
        }
        return Math.toIntExact(max + 1);
    }
}
