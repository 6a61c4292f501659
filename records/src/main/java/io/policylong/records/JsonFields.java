package io.policylong.records;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Typed access to the fields of one JSON record, with errors that name the record type and field. Shared by
 * every record's parser so that all wire formats reject bad input the same way.
 */
final class JsonFields {
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final JsonNode node;
    private final String kind;

    private JsonFields(JsonNode node, String kind) {
        this.node = node;
        this.kind = kind;
    }

    /** Parses a JSON object. */
    static JsonFields parse(String json, String kind) throws InvalidRecordException {
        if (json == null) {
            throw new InvalidRecordException(kind + ": no content");
        }
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new InvalidRecordException(kind + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new InvalidRecordException(kind + ": not a JSON object");
        }
        return new JsonFields(node, kind);
    }

    JsonNode node() {
        return node;
    }

    InvalidRecordException error(String reason) {
        return new InvalidRecordException(kind + ": " + reason);
    }

    boolean has(String field) {
        JsonNode v = node.get(field);
        return v != null && !v.isNull();
    }

    String requiredText(String field) throws InvalidRecordException {
        if (!has(field)) {
            throw error("missing \"" + field + "\"");
        }
        return text(field);
    }

    String optionalText(String field) throws InvalidRecordException {
        return has(field) ? text(field) : null;
    }

    private String text(String field) throws InvalidRecordException {
        JsonNode v = node.get(field);
        if (!v.isTextual()) {
            throw error("\"" + field + "\" must be a string");
        }
        return v.asText();
    }

    /** A string, or an integer written as a string (ids are often numeric upstream). */
    String requiredId(String field) throws InvalidRecordException {
        if (!has(field)) {
            throw error("missing \"" + field + "\"");
        }
        JsonNode v = node.get(field);
        if (!(v.isTextual() || v.isIntegralNumber())) {
            throw error("\"" + field + "\" must be a string or an integer");
        }
        String id = v.asText();
        if (id.isBlank()) {
            throw error("\"" + field + "\" is empty");
        }
        return id;
    }

    long requiredLong(String field) throws InvalidRecordException {
        if (!has(field)) {
            throw error("missing \"" + field + "\"");
        }
        return optionalLong(field);
    }

    Long optionalLong(String field) throws InvalidRecordException {
        if (!has(field)) {
            return null;
        }
        JsonNode v = node.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw error("\"" + field + "\" must be an integer, got " + v);
        }
        return v.asLong();
    }

    Map<String, String> optionalStringMap(String field) throws InvalidRecordException {
        if (!has(field)) {
            return Map.of();
        }
        JsonNode v = node.get(field);
        if (!v.isObject()) {
            throw error("\"" + field + "\" must be an object of strings");
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode value = e.getValue();
            if (!(value.isTextual() || value.isNumber() || value.isBoolean())) {
                throw error("\"" + field + "." + e.getKey() + "\" must be a string, number or boolean");
            }
            map.put(e.getKey(), value.asText());
        }
        return map;
    }
}
