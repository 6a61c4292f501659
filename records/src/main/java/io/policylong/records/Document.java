package io.policylong.records;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A document of the corpus to be screened (and, for the retrieval corpus, chunked and indexed).
 *
 * <p>JSON: {@code {"id": "brown-ca01", "text": "...", "source": "brown", "meta": {"genre": "press"}}};
 * {@code id} (a string or an integer) and a non-blank {@code text} are required.
 *
 * @param id stable identifier, unique within a corpus
 * @param text the content
 * @param source where the document comes from, or null
 * @param meta further string attributes (never null)
 */
public record Document(String id, String text, String source, Map<String, String> meta) implements Serializable {
    private static final long serialVersionUID = 1L;

    public Document {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("document id must not be empty");
        }
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("document " + id + " has no text");
        }
        meta = meta == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(meta));
    }

    /** Parses and validates the JSON form. */
    public static Document fromJson(String json) throws InvalidRecordException {
        JsonFields f = JsonFields.parse(json, "document");
        String id = f.requiredId("id");
        if (!f.has("text")) {
            throw f.error("document " + id + " has no \"text\"");
        }
        String text = f.requiredText("text");
        if (text.isBlank()) {
            throw f.error("document " + id + " has empty text");
        }
        return new Document(id, text, f.optionalText("source"), f.optionalStringMap("meta"));
    }

    /** The JSON form (one line). */
    public String toJson() {
        ObjectNode node = JsonFields.JSON.createObjectNode();
        node.put("id", id);
        node.put("text", text);
        if (source != null) {
            node.put("source", source);
        }
        if (!meta.isEmpty()) {
            ObjectNode m = node.putObject("meta");
            meta.forEach(m::put);
        }
        try {
            return JsonFields.JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
