package io.policylong.pipeline.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Typed reading of a YAML configuration section with defaults, and errors that name the file and the key.
 * Unknown keys are errors too, so that a misspelt setting is not silently ignored.
 */
final class ConfigTree {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)");

    private final JsonNode node;
    private final String path;
    private final String source;

    ConfigTree(JsonNode node, String path, String source) {
        this.node = node == null || node.isNull() ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : node;
        this.path = path;
        this.source = source;
    }

    IllegalArgumentException error(String key, String reason) {
        return new IllegalArgumentException(source + ": " + (path.isEmpty() ? "" : path + ".") + key + ": " + reason);
    }

    /** Fails on keys other than the given ones. */
    ConfigTree only(String... keys) {
        if (node.isObject()) {
            Set<String> allowed = Set.of(keys);
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!allowed.contains(key)) {
                    throw error(key, "unknown setting (known here: " + String.join(", ", keys) + ")");
                }
            }
        } else if (!node.isMissingNode()) {
            throw new IllegalArgumentException(source + ": " + path + " must be a section of settings");
        }
        return this;
    }

    ConfigTree section(String key) {
        return new ConfigTree(node.get(key), path.isEmpty() ? key : path + "." + key, source);
    }

    private JsonNode value(String key) {
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    String text(String key, String fallback) {
        JsonNode v = value(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isValueNode()) {
            throw error(key, "must be a single value");
        }
        return v.asText();
    }

    /** A list of values (a YAML sequence, or one value), empty when absent. */
    java.util.List<String> texts(String key) {
        JsonNode v = value(key);
        if (v == null) {
            return java.util.List.of();
        }
        if (v.isValueNode()) {
            return java.util.List.of(v.asText());
        }
        if (!v.isArray()) {
            throw error(key, "must be a list of values");
        }
        java.util.List<String> values = new java.util.ArrayList<>();
        for (JsonNode item : v) {
            if (!item.isValueNode() || item.isNull()) {
                throw error(key, "must be a list of values, not " + item);
            }
            values.add(item.asText());
        }
        return java.util.List.copyOf(values);
    }

    String requiredText(String key) {
        String v = text(key, null);
        if (v == null || v.isBlank()) {
            throw error(key, "is required");
        }
        return v;
    }

    int positiveInt(String key, int fallback) {
        JsonNode v = value(key);
        if (v == null) {
            return fallback;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
            throw error(key, "must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    int nonNegativeInt(String key, int fallback) {
        JsonNode v = value(key);
        if (v == null) {
            return fallback;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 0) {
            throw error(key, "must be a non-negative integer, got " + v);
        }
        return v.asInt();
    }

    double number(String key, double fallback) {
        JsonNode v = value(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw error(key, "must be a number, got " + v);
        }
        return v.asDouble();
    }

    double fraction(String key, double fallback) {
        double v = number(key, fallback);
        if (v < 0 || v > 1) {
            throw error(key, "must be between 0 and 1, got " + v);
        }
        return v;
    }

    boolean bool(String key, boolean fallback) {
        JsonNode v = value(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw error(key, "must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    /** Whether the key is present. */
    boolean has(String key) {
        return value(key) != null;
    }

    /** A mapping of names to scalar values (numbers and booleans as text); empty when absent. */
    java.util.Map<String, String> stringMap(String key) {
        JsonNode v = value(key);
        java.util.Map<String, String> map = new java.util.LinkedHashMap<>();
        if (v == null) {
            return map;
        }
        if (!v.isObject()) {
            throw error(key, "must be a mapping of names to values");
        }
        for (java.util.Iterator<java.util.Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            java.util.Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                throw error(key + "." + e.getKey(), "must be a single value");
            }
            map.put(e.getKey(), e.getValue().asText());
        }
        return map;
    }

    /** A duration that must be longer than zero (zero would mean "never" or "no limit" to Flink). */
    Duration positiveDuration(String key, Duration fallback) {
        Duration d = duration(key, fallback);
        if (d != null && (d.isZero() || d.isNegative())) {
            throw error(key, "must be longer than zero, got " + d);
        }
        return d;
    }

    /** A duration such as {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h} or an ISO-8601 duration. */
    Duration duration(String key, Duration fallback) {
        String text = text(key, null);
        if (text == null) {
            return fallback;
        }
        Matcher m = DURATION.matcher(text.trim());
        if (m.matches()) {
            double amount = Double.parseDouble(m.group(1));
            long millis = Math.round(amount * switch (m.group(2)) {
                case "ms" -> 1;
                case "s" -> 1000;
                case "m" -> 60_000;
                default -> 3_600_000;
            });
            return Duration.ofMillis(millis);
        }
        try {
            return Duration.parse(text.trim());
        } catch (DateTimeParseException e) {
            throw error(key, "must be a duration such as 500ms, 10s, 5m or 1h, got '" + text + "'");
        }
    }
}
