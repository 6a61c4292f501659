package io.policylong.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.connectors.kafka.testutils.EmbeddedKafka;
import io.policylong.pipeline.job.JobFixtures;
import io.policylong.policy.CheckpointDigest;
import io.policylong.policy.KafkaPublisher;
import io.policylong.records.Document;
import io.policylong.records.PolicyUpdate;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dev overlay, rendered to a standalone cluster configuration, on a real cluster of JobManager and
 * TaskManager processes: the FlinkDeployment's flinkConfiguration (less what only Kubernetes provides: high
 * availability and the memory layout, and the volume at /data mapped to a directory), its parallelism, the job YAML of its ConfigMap
 * (its Kafka address pointed at a broker here), and the topics of its KafkaTopics. The job screens documents and a
 * bad record, and every metric the Grafana dashboard queries is read from the processes' Prometheus reporters.
 */
@Tag("cluster")
class DevOverlayOnClusterTest {
    private static final Duration WAIT = Duration.ofMinutes(3);
    private static final Pattern METRIC = Pattern.compile("\\b(flink_[A-Za-z0-9_]+)");
    private static final Pattern BY = Pattern.compile("by \\(([^)]*)\\)");
    private static final Pattern SELECTOR_LABEL = Pattern.compile("[{,]\\s*([a-z_]+)\\s*=~?\"");

    @Test
    void theDevOverlaysSettingsRunTheJobAndFeedEveryDashboardMetric(@TempDir Path root) throws Exception {
        RenderedManifests dev = RenderedManifests.render("dev");
        JobFixtures fixtures = JobFixtures.create(Files.createDirectories(root.resolve("fixtures")));
        Path data = Files.createDirectories(root.resolve("data"));
        String dataUri = data.toUri().toString().replaceAll("/$", "");
        copyTree(fixtures.index(), data.resolve("index"));

        // The FlinkDeployment's settings, as a standalone cluster takes them.
        Map<String, String> settings = new LinkedHashMap<>();
        dev.flinkConfiguration().forEach((key, value) -> {
            // The memory layout comes from the pod's size on Kubernetes; these TaskManagers have fixed sizes of their
            // own (KubernetesManifestsTest checks the layout with Flink's own memory calculation).
            if (!key.startsWith("high-availability") && !key.startsWith("taskmanager.memory.")) {
                settings.put(key, value.replace("file:///data", dataUri));
            }
        });
        int prometheus = FlinkProcessCluster.freePort();
        settings.put("metrics.reporter.prom.port", prometheus + "-" + (prometheus + 9));
        JsonNode spec = dev.one("FlinkDeployment").path("spec");
        settings.put("parallelism.default", spec.path("job").path("parallelism").asText());
        int slots = Integer.parseInt(settings.get("taskmanager.numberOfTaskSlots"));
        int taskManagers = (spec.path("job").path("parallelism").asInt() + slots - 1) / slots;

        try (EmbeddedKafka kafka = EmbeddedKafka.start();
                FlinkProcessCluster cluster = FlinkProcessCluster.start(root.resolve("cluster"), taskManagers, slots,
                        List.of(), settings)) {
            for (JsonNode topic : dev.ofKind("KafkaTopic")) {
                Map<String, String> configs = new HashMap<>();
                topic.path("spec").path("config").fields().forEachRemaining(e -> configs.put(e.getKey(),
                        e.getValue().asText()));
                kafka.createTopic(topic.path("spec").path("topicName").asText(),
                        topic.path("spec").path("partitions").asInt(), configs);
            }
            String yaml = dev.jobConfigYaml()
                    .replace("policylong-kafka-kafka-bootstrap:9092", kafka.bootstrapServers())
                    .replace("file:///data", dataUri)
                    .replace("/var/cache/policylong/staging", root.resolve("staging").toString());
            Path jobYaml = root.resolve("job.yaml");
            Files.writeString(jobYaml, yaml);
            var config = io.policylong.pipeline.config.PipelineConfig.load(jobYaml).kafka();
            try (KafkaPublisher documents = new KafkaPublisher(kafka.bootstrapServers(), config.documentsTopic(),
                    Map.of())) {
                for (Document d : fixtures.documents()) {
                    documents.sendAndWait(d.id(), d.toJson());
                }
                documents.sendAndWait("broken", "{not json");
            }
            try (KafkaPublisher policies = new KafkaPublisher(kafka.bootstrapServers(), config.policiesTopic(),
                    Map.of())) {
                policies.sendAndWait("dev", new PolicyUpdate(0, fixtures.v0().toUri().toString(),
                        CheckpointDigest.weightsSha256(fixtures.v0()), null, Instant.now(), "dev").toJson());
            }
            List<String> args = new java.util.ArrayList<>();
            spec.path("job").path("args").forEach(a -> args.add(a.asText()));
            args.set(args.indexOf("--config") + 1, jobYaml.toString());
            String jarId = cluster.rest().uploadJar(FlinkProcessCluster.jobJar());
            cluster.rest().runJar(jarId, args, null, null);

            Map<String, Set<String>> wanted = dashboardMetrics();
            Map<String, Set<String>> exposed = scrape(prometheus);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!missing(wanted, exposed).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(2000);
                exposed = scrape(prometheus);
            }
            assertEquals(Map.of(), missing(wanted, exposed), "dashboard metrics not exposed; exposed: "
                    + exposed.keySet().stream().filter(n -> n.contains("operator_") || n.contains("_job_")).toList()
                    + "; reporter log lines: " + cluster.logLines("Reporter") + cluster.logLines("prom"));
            assertTrue(exposed.get("flink_taskmanager_job_task_operator_reason_deadLetters").contains("reason"));
            assertEquals(List.of(), cluster.logLines("UnsatisfiedLinkError"));
        }
    }

    /** What of {@code wanted} (metric names, with the labels each must have) {@code exposed} lacks. */
    private static Map<String, Set<String>> missing(Map<String, Set<String>> wanted, Map<String, Set<String>> exposed) {
        Map<String, Set<String>> missing = new TreeMap<>();
        wanted.forEach((name, labels) -> {
            Set<String> lacking = new HashSet<>(labels);
            lacking.removeAll(exposed.getOrDefault(name, Set.of()));
            if (!exposed.containsKey(name) || !lacking.isEmpty()) {
                missing.put(name, lacking);
            }
        });
        return missing;
    }

    /** The metrics the dashboard queries, each with the labels it selects or groups by. */
    static Map<String, Set<String>> dashboardMetrics() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(FlinkProcessCluster.projectRoot()
                .resolve("k8s/base/dashboards/policylong-screening.json").toFile());
        Map<String, Set<String>> wanted = new TreeMap<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText();
                Set<String> labels = new HashSet<>();
                Matcher by = BY.matcher(expr);
                while (by.find()) {
                    for (String l : by.group(1).split(",")) {
                        labels.add(l.trim());
                    }
                }
                Matcher selector = SELECTOR_LABEL.matcher(expr);
                while (selector.find()) {
                    labels.add(selector.group(1));
                }
                Matcher m = METRIC.matcher(expr);
                while (m.find()) {
                    wanted.computeIfAbsent(m.group(1), k -> new HashSet<>()).addAll(labels);
                }
            }
        }
        if (wanted.size() < 10) {
            throw new AssertionError("the dashboard queries too few metrics: " + wanted);
        }
        return wanted;
    }

    /** Every metric the reporters on these ports expose, with the names of its labels. */
    private static Map<String, Set<String>> scrape(int firstPort) {
        Map<String, Set<String>> metrics = new TreeMap<>();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        for (int port = firstPort; port < firstPort + 10; port++) {
            String text;
            try {
                text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
            } catch (IOException | InterruptedException e) {
                continue;
            }
            for (String line : text.split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int brace = line.indexOf('{');
                int space = line.indexOf(' ');
                String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
                Set<String> labels = metrics.computeIfAbsent(name, k -> new HashSet<>());
                if (brace >= 0 && brace < space) {
                    Matcher l = Pattern.compile("([a-zA-Z_]+)=\"").matcher(line.substring(brace, line.lastIndexOf('}')));
                    while (l.find()) {
                        labels.add(l.group(1));
                    }
                }
            }
        }
        return metrics;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
