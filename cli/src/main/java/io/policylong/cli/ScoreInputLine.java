package io.policylong.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.model.tokenizer.CheckpointTokenizer;

/**
 * One line of {@code score} input: {@code {"id": ..., "input_ids": [...]}} or {@code {"id": ..., "text": "..."}}.
 *
 * @param id the record id as given (a string or an integer written as a string)
 * @param tokenIds the sequence to score
 */
public record ScoreInputLine(String id, long[] tokenIds) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Parses a line; text is tokenized with the tokenizer (which may be null when the checkpoint has none).
     *
     * @throws IllegalArgumentException with the reason the line cannot be scored
     */
    public static ScoreInputLine parse(String line, CheckpointTokenizer tokenizer) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        JsonNode idNode = node.get("id");
        if (idNode == null || !(idNode.isTextual() || idNode.isIntegralNumber())) {
            throw new IllegalArgumentException("missing \"id\" (a string or an integer)");
        }
        String id = idNode.asText();
        JsonNode ids = node.get("input_ids");
        JsonNode text = node.get("text");
        if (ids != null && text != null) {
            throw new IllegalArgumentException("record " + id + " has both \"input_ids\" and \"text\"; give one");
        }
        long[] tokens;
        if (ids != null) {
            if (!ids.isArray()) {
                throw new IllegalArgumentException("record " + id + ": \"input_ids\" is not an array");
            }
            tokens = new long[ids.size()];
            for (int i = 0; i < tokens.length; i++) {
                JsonNode t = ids.get(i);
                if (!t.isIntegralNumber() || !t.canConvertToLong() || t.asLong() < 0) {
                    throw new IllegalArgumentException("record " + id + ": input_ids[" + i + "] = " + t
                            + " is not a non-negative integer");
                }
                tokens[i] = t.asLong();
            }
        } else if (text != null) {
            if (!text.isTextual()) {
                throw new IllegalArgumentException("record " + id + ": \"text\" is not a string");
            }
            if (tokenizer == null) {
                throw new IllegalArgumentException("record " + id
                        + " gives text, but the checkpoint has no tokenizer.json; give input_ids");
            }
            tokens = tokenizer.encodeIds(text.asText());
        } else {
            throw new IllegalArgumentException("record " + id + " has neither \"input_ids\" nor \"text\"");
        }
        if (tokens.length == 0) {
            throw new IllegalArgumentException("record " + id + " has no tokens");
        }
        return new ScoreInputLine(id, tokens);
    }
}
