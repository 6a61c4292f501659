package io.policylong.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Custom resources checked against the {@code openAPIV3Schema} of their real CustomResourceDefinitions, as an API
 * server would check them, and stricter in one respect an API server also applies (pruning): a field the schema
 * does not declare is an error, except inside objects marked {@code x-kubernetes-preserve-unknown-fields}.
 * The CRDs are the reference copies in {@code ../shared/reference/crds/} (system property
 * {@code policylong.crds} to read them elsewhere).
 */
final class CrdSchemas {
    private record Served(String group, String version, String kind, JsonSchema schema) {
    }

    private final Map<String, Served> byApiVersionAndKind = new TreeMap<>();

    private CrdSchemas() {
    }

    /** Every CRD of the reference directory. */
    static CrdSchemas load() throws IOException {
        Path dir = Path.of(System.getProperty("policylong.crds",
                FlinkProcessCluster.projectRoot().resolveSibling("shared/reference/crds").toString()));
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("the reference CRDs are missing: " + dir + " (set -Dpolicylong.crds)");
        }
        CrdSchemas schemas = new CrdSchemas();
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7);
        try (var files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yml") || f.toString().endsWith(".yaml"))
                    .sorted().toList()) {
                JsonNode crd = RenderedManifests.YAML.readTree(file.toFile());
                if (!crd.path("kind").asText().equals("CustomResourceDefinition")) {
                    continue;
                }
                String group = crd.path("spec").path("group").asText();
                String kind = crd.path("spec").path("names").path("kind").asText();
                for (JsonNode version : crd.path("spec").path("versions")) {
                    if (!version.path("served").asBoolean()) {
                        continue;
                    }
                    ObjectNode schema = version.path("schema").path("openAPIV3Schema").deepCopy();
                    closeObjects(schema, true);
                    String apiVersion = group + "/" + version.path("name").asText();
                    schemas.byApiVersionAndKind.put(apiVersion + " " + kind, new Served(group,
                            version.path("name").asText(), kind, factory.getSchema(schema)));
                }
            }
        }
        return schemas;
    }

    /** Declares every object with properties closed, unless it preserves unknown fields (the root stays open). */
    private static void closeObjects(JsonNode node, boolean root) {
        if (node instanceof ObjectNode object) {
            if (!root && object.has("properties") && !object.path("x-kubernetes-preserve-unknown-fields").asBoolean()
                    && !object.has("additionalProperties")) {
                object.put("additionalProperties", false);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                // Under "properties" every value is a schema; elsewhere recurse into schemas only.
                if (e.getKey().equals("properties")) {
                    e.getValue().forEach(child -> closeObjects(child, false));
                } else if (e.getKey().equals("items") || e.getKey().equals("additionalProperties")) {
                    closeObjects(e.getValue(), false);
                } else if (e.getKey().equals("allOf") || e.getKey().equals("anyOf") || e.getKey().equals("oneOf")) {
                    e.getValue().forEach(child -> closeObjects(child, false));
                }
            }
        }
    }

    /** Whether a CRD of the reference directory serves this apiVersion and kind. */
    boolean serves(String apiVersion, String kind) {
        return byApiVersionAndKind.containsKey(apiVersion + " " + kind);
    }

    /**
     * What is wrong with a custom resource: its apiVersion and kind not served, a metadata without a DNS-1123
     * name or with non-string labels, or schema violations. Empty when it is valid.
     */
    List<String> problems(JsonNode resource) {
        List<String> problems = new ArrayList<>();
        String apiVersion = resource.path("apiVersion").asText();
        String kind = resource.path("kind").asText();
        Served served = byApiVersionAndKind.get(apiVersion + " " + kind);
        if (served == null) {
            problems.add(apiVersion + " " + kind + " is not served by the reference CRDs " + byApiVersionAndKind
                    .keySet());
            return problems;
        }
        JsonNode metadata = resource.path("metadata");
        String name = metadata.path("name").asText();
        if (!name.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*") || name.length() > 253) {
            problems.add("metadata.name '" + name + "' is not a DNS-1123 subdomain");
        }
        metadata.path("labels").fields().forEachRemaining(l -> {
            if (!l.getValue().isTextual()) {
                problems.add("metadata.labels." + l.getKey() + " is not a string");
            }
        });
        for (ValidationMessage m : served.schema().validate(resource)) {
            problems.add(m.getMessage());
        }
        return problems;
    }
}
