package io.policylong.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.pipeline.config.PipelineConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The objects of one kustomize overlay of {@code k8s/}, rendered by {@code kubectl kustomize} (offline, as
 * {@code kubectl apply -k} would render them), with the look-ups the checks need.
 */
final class RenderedManifests {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final String overlay;
    private final List<JsonNode> objects;

    private RenderedManifests(String overlay, List<JsonNode> objects) {
        this.overlay = overlay;
        this.objects = List.copyOf(objects);
    }

    private static final Map<String, RenderedManifests> OVERLAYS = new java.util.concurrent.ConcurrentHashMap<>();

    /** Renders {@code k8s/overlays/<overlay>}, once per test JVM (callers copy what they change). */
    static RenderedManifests render(String overlay) throws Exception {
        RenderedManifests rendered = OVERLAYS.get(overlay);
        if (rendered == null) {
            rendered = render(FlinkProcessCluster.projectRoot().resolve("k8s/overlays").resolve(overlay), overlay);
            OVERLAYS.put(overlay, rendered);
        }
        return rendered;
    }

    /** Renders a kustomization directory. */
    static RenderedManifests render(Path dir, String overlay) throws Exception {
        Process kubectl;
        try {
            kubectl = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectErrorStream(false).start();
        } catch (IOException e) {
            throw new IllegalStateException("kubectl is needed to render k8s/overlays/" + overlay + " and was not "
                    + "found (.ci/run installs Debian's kubernetes-client): " + e.getMessage(), e);
        }
        byte[] out = kubectl.getInputStream().readAllBytes();
        String err = new String(kubectl.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!kubectl.waitFor(2, TimeUnit.MINUTES) || kubectl.exitValue() != 0) {
            throw new IllegalStateException("kubectl kustomize " + dir + " failed: " + err);
        }
        if (!err.isBlank()) {
            throw new IllegalStateException("kubectl kustomize " + dir + " warned: " + err);
        }
        List<JsonNode> objects = new ArrayList<>();
        try (var docs = YAML.readerFor(JsonNode.class).<JsonNode>readValues(out)) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    objects.add(doc);
                }
            }
        }
        return new RenderedManifests(overlay, objects);
    }

    String overlay() {
        return overlay;
    }

    List<JsonNode> all() {
        return objects;
    }

    List<JsonNode> ofKind(String kind) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
    }

    /** The single object of a kind. */
    JsonNode one(String kind) {
        List<JsonNode> found = ofKind(kind);
        if (found.size() != 1) {
            throw new AssertionError(overlay + ": expected one " + kind + ", found " + found.size());
        }
        return found.get(0);
    }

    /** The ConfigMap named {@code name} (generated names carry a hash suffix, which the references carry too). */
    JsonNode configMap(String name) {
        return ofKind("ConfigMap").stream().filter(c -> c.path("metadata").path("name").asText().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError(overlay + ": no ConfigMap " + name));
    }

    /** The FlinkDeployment's flinkConfiguration, flat. */
    Map<String, String> flinkConfiguration() {
        Map<String, String> map = new LinkedHashMap<>();
        one("FlinkDeployment").path("spec").path("flinkConfiguration").fields()
                .forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }

    /** The top-level pod template's main container. */
    JsonNode mainContainer() {
        return one("FlinkDeployment").path("spec").path("podTemplate").path("spec").path("containers").get(0);
    }

    /** Where the job's configuration file is mounted, and the ConfigMap key it comes from. */
    record JobConfigFile(String path, String configMap, String key) {
    }

    /** The job configuration the FlinkDeployment's {@code --config} argument names, traced to its ConfigMap. */
    JobConfigFile jobConfigFile() {
        JsonNode spec = one("FlinkDeployment").path("spec");
        List<String> args = new ArrayList<>();
        spec.path("job").path("args").forEach(a -> args.add(a.asText()));
        int at = args.indexOf("--config");
        if (at < 0 || at + 1 >= args.size()) {
            throw new AssertionError(overlay + ": job.args has no --config PATH: " + args);
        }
        Path file = Path.of(args.get(at + 1));
        for (JsonNode mount : mainContainer().path("volumeMounts")) {
            if (Path.of(mount.path("mountPath").asText()).equals(file.getParent())) {
                for (JsonNode volume : spec.path("podTemplate").path("spec").path("volumes")) {
                    if (volume.path("name").asText().equals(mount.path("name").asText())
                            && volume.has("configMap")) {
                        return new JobConfigFile(file.toString(), volume.path("configMap").path("name").asText(),
                                file.getFileName().toString());
                    }
                }
            }
        }
        throw new AssertionError(overlay + ": " + file + " is not in a mounted ConfigMap");
    }

    /** The job configuration's YAML text. */
    String jobConfigYaml() {
        JobConfigFile file = jobConfigFile();
        JsonNode text = configMap(file.configMap()).path("data").path(file.key());
        if (!text.isTextual()) {
            throw new AssertionError(overlay + ": ConfigMap " + file.configMap() + " has no key " + file.key());
        }
        return text.asText();
    }

    /** The job configuration, read by the job's own parser and checked as a cluster submission checks it. */
    PipelineConfig jobConfig() throws IOException {
        String source = "k8s/overlays/" + overlay + " " + jobConfigFile().path();
        return PipelineConfig.parse(YAML.readTree(jobConfigYaml()), source).withAbsoluteLocations(source);
    }

    /** A copy of an object, for changing. */
    static ObjectNode copy(JsonNode node) {
        return (ObjectNode) node.deepCopy();
    }
}
