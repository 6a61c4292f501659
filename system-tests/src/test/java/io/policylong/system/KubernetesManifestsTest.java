package io.policylong.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.policylong.connectors.kafka.KafkaTopics;
import io.policylong.pipeline.KafkaTopicSetup;
import io.policylong.pipeline.config.PipelineConfig;
import java.net.URI;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The deployment in {@code k8s/} kept true to the code: each overlay renders, its custom resources validate
 * against the real CRDs with unknown fields rejected, the FlinkDeployment follows the operator's own rules and
 * carries the cluster settings the job needs, the job configuration in its ConfigMap is one the job accepts, and
 * the KafkaTopics are the topics that configuration expects.
 */
class KubernetesManifestsTest {
    private static final Path K8S = FlinkProcessCluster.projectRoot().resolve("k8s");
    private static CrdSchemas crds;
    private static Map<String, String> pom;

    @BeforeAll
    static void load() throws Exception {
        crds = CrdSchemas.load();
        pom = JobImageTest.pomProperties(FlinkProcessCluster.projectRoot().resolve("pom.xml"));
    }

    @Test
    void everyManifestParses() throws Exception {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(K8S)) {
            files = walk.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".json")).toList();
        }
        assertTrue(files.size() >= 10, files.toString());
        for (Path f : files) {
            if (f.toString().endsWith(".json")) {
                new ObjectMapper().readTree(f.toFile());
            } else {
                try (var docs = RenderedManifests.YAML.readerFor(JsonNode.class).readValues(f.toFile())) {
                    assertTrue(docs.hasNext(), f + " is empty");
                    while (docs.hasNext()) {
                        docs.next();
                    }
                }
            }
        }
    }

    @Test
    void theValidatorRejectsWhatAnApiServerWould() throws Exception {
        JsonNode deployment = RenderedManifests.render("dev").one("FlinkDeployment");
        ObjectNode misspelt = RenderedManifests.copy(deployment);
        ((ObjectNode) misspelt.path("spec").path("job")).put("jarUri", "local:///x.jar");
        ObjectNode unknownVersion = RenderedManifests.copy(deployment);
        ((ObjectNode) unknownVersion.path("spec")).put("flinkVersion", "v2_5");
        ObjectNode badPod = RenderedManifests.copy(deployment);
        ((ObjectNode) badPod.path("spec").path("podTemplate").path("spec").path("containers").get(0))
                .put("volumeMount", "x");
        for (ObjectNode bad : List.of(misspelt, unknownVersion, badPod)) {
            assertFalse(crds.problems(bad).isEmpty(), bad.toString());
        }
        JsonNode topic = RenderedManifests.render("dev").ofKind("KafkaTopic").get(0);
        ObjectNode noPartitions = RenderedManifests.copy(topic);
        ((ObjectNode) noPartitions.path("spec")).put("partitions", 0);
        assertFalse(crds.problems(noPartitions).isEmpty());
        // flinkConfiguration and KafkaTopic config are free-form in the CRDs.
        ObjectNode extraSetting = RenderedManifests.copy(deployment);
        ((ObjectNode) extraSetting.path("spec").path("flinkConfiguration")).put("any.flink.key", "1");
        assertEquals(List.of(), crds.problems(extraSetting));
    }

    @Test
    void aPlatformOverlayRenamesTheImageAndKeepsItsTag() throws Exception {
        // As the README shows: an overlay of an overlay points the FlinkDeployment at another registry.
        Path mine = Files.createDirectories(Path.of("target/k8s-overlay-test/mine"));
        Path prod = FlinkProcessCluster.projectRoot().resolve("k8s/overlays/prod");
        Files.writeString(mine.resolve("kustomization.yaml"), String.join("\n",
                "resources:",
                "  - " + mine.toAbsolutePath().relativize(prod),
                "images:",
                "  - name: registry.example.com/policylong/policylong-job",
                "    newName: registry.internal:5000/ml/policylong-job",
                ""));
        String image = RenderedManifests.render(mine, "mine").one("FlinkDeployment").path("spec").path("image")
                .asText();
        assertEquals("registry.internal:5000/ml/policylong-job:" + pom.get("project.version") + "-gpu", image);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod", "remote-scoring"})
    void theCustomResourcesValidateAgainstTheRealCrds(String overlay) throws Exception {
        RenderedManifests rendered = RenderedManifests.render(overlay);
        List<JsonNode> custom = new ArrayList<>();
        custom.add(rendered.one("FlinkDeployment"));
        custom.addAll(rendered.ofKind("KafkaTopic"));
        assertEquals(4, rendered.ofKind("KafkaTopic").size());
        for (JsonNode resource : custom) {
            assertEquals(List.of(), crds.problems(resource), overlay + " " + resource.path("kind").asText() + " "
                    + resource.path("metadata").path("name").asText());
        }
        Set<String> kinds = Set.of("FlinkDeployment", "KafkaTopic", "ServiceAccount", "Role", "RoleBinding",
                "PodDisruptionBudget", "PodMonitor", "ConfigMap", "PersistentVolumeClaim", "Deployment", "Service",
                "HorizontalPodAutoscaler");
        for (JsonNode o : rendered.all()) {
            assertTrue(kinds.contains(o.path("kind").asText()), "unexpected " + o.path("kind"));
            assertFalse(o.path("metadata").path("namespace").asText().isEmpty(), overlay + " sets the namespace");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod", "remote-scoring"})
    void theFlinkDeploymentFollowsTheOperatorsRules(String overlay) throws Exception {
        RenderedManifests rendered = RenderedManifests.render(overlay);
        JsonNode spec = rendered.one("FlinkDeployment").path("spec");
        Map<String, String> flink = rendered.flinkConfiguration();
        String upgradeMode = spec.path("job").path("upgradeMode").asText("stateless");
        if (!upgradeMode.equals("stateless")) {
            assertTrue(flink.containsKey("execution.checkpointing.dir") || flink.containsKey("state.checkpoints.dir"),
                    "a checkpoint directory for upgradeMode " + upgradeMode);
        }
        if (upgradeMode.equals("last-state")) {
            assertEquals("kubernetes", flink.getOrDefault("high-availability.type", flink.get("high-availability")));
            assertNotNull(flink.get("high-availability.storageDir"), "high availability needs its storage");
        }
        if (upgradeMode.equals("savepoint")) {
            assertTrue(flink.containsKey("execution.checkpointing.savepoint-dir")
                    || flink.containsKey("state.savepoints.dir"), "a savepoint directory");
        }
        for (String forbidden : List.of("kubernetes.namespace", "kubernetes.cluster-id",
                "high-availability.cluster-id")) {
            assertFalse(flink.containsKey(forbidden), forbidden + " is the operator's to set");
        }
        List<JsonNode> templates = new ArrayList<>(List.of(spec.path("podTemplate")));
        templates.add(spec.path("jobManager").path("podTemplate"));
        templates.add(spec.path("taskManager").path("podTemplate"));
        for (JsonNode template : templates) {
            JsonNode containers = template.path("spec").path("containers");
            if (containers.size() > 0) {
                assertEquals("flink-main-container", containers.get(0).path("name").asText(), overlay);
            }
        }
        assertEquals("v2_2", spec.path("flinkVersion").asText());
        assertEquals("native", spec.path("mode").asText("native"), "application mode on native Kubernetes");
        assertEquals("local:///opt/flink/usrlib/policylong-job.jar", spec.path("job").path("jarURI").asText());
        assertEquals("io.policylong.pipeline.ScreeningJobMain", spec.path("job").path("entryClass").asText());
        assertEquals("policylong-flink", spec.path("serviceAccount").asText());
        assertTrue(rendered.ofKind("ServiceAccount").stream().anyMatch(s -> s.path("metadata").path("name").asText()
                .equals("policylong-flink")));
        // Every location a cluster reads is a URI.
        for (String key : List.of("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir",
                "high-availability.storageDir")) {
            assertNotNull(URI.create(flink.get(key)).getScheme(), key + " is a URI");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod", "remote-scoring"})
    void theClusterSettingsImagesAndStorageAreTheOnesTheJobNeeds(String overlay) throws Exception {
        RenderedManifests rendered = RenderedManifests.render(overlay);
        JsonNode spec = rendered.one("FlinkDeployment").path("spec");
        Map<String, String> flink = rendered.flinkConfiguration();
        FlinkProcessCluster.readFlatYaml(FlinkProcessCluster.projectRoot().resolve("conf/flink-cluster.yaml"))
                .forEach((k, v) -> assertEquals(v, flink.get(k), overlay + ": " + k + " as conf/flink-cluster.yaml"));
        assertEquals("rocksdb", flink.get("state.backend.type"));
        assertEquals("true", flink.get("execution.checkpointing.incremental"));
        assertNotNull(flink.get("restart-strategy.type"));
        assertEquals("org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
                flink.get("metrics.reporter.prom.factory.class"));

        // The image: this version, never latest; the GPU variant exactly where GPUs are requested.
        boolean gpus = "gpu".equals(flink.get("external-resources"));
        String image = spec.path("image").asText();
        assertTrue(image.endsWith("/policylong-job:" + pom.get("project.version") + (gpus ? "-gpu" : "")), image);
        if (gpus) {
            assertEquals("org.apache.flink.externalresource.gpu.GPUDriverFactory",
                    flink.get("external-resource.gpu.driver-factory.class"));
            assertEquals("nvidia.com/gpu", flink.get("external-resource.gpu.kubernetes.config-key"));
            assertTrue(Integer.parseInt(flink.get("external-resource.gpu.amount")) >= 1);
        }

        // Object storage needs Flink's S3 plugin, of this Flink version.
        boolean s3 = flink.values().stream().anyMatch(v -> v.startsWith("s3://"))
                || rendered.jobConfig().retrieval().index().startsWith("s3://");
        String plugins = "";
        for (JsonNode env : rendered.mainContainer().path("env")) {
            if (env.path("name").asText().equals("ENABLE_BUILT_IN_PLUGINS")) {
                plugins = env.path("value").asText();
            }
        }
        if (s3) {
            assertEquals("flink-s3-fs-hadoop-" + pom.get("flink.version") + ".jar", plugins, overlay);
        }

        // The reporter's port is the container port the PodMonitor scrapes, on pods of this deployment.
        String name = rendered.one("FlinkDeployment").path("metadata").path("name").asText();
        JsonNode monitor = rendered.ofKind("PodMonitor").stream().filter(m -> m.path("spec").path("selector")
                .path("matchLabels").path("app").asText().equals(name)).findFirst().orElseThrow();
        String portName = monitor.path("spec").path("podMetricsEndpoints").get(0).path("port").asText();
        JsonNode port = null;
        for (JsonNode p : rendered.mainContainer().path("ports")) {
            if (p.path("name").asText().equals(portName)) {
                port = p;
            }
        }
        assertNotNull(port, "container port " + portName);
        assertEquals(flink.get("metrics.reporter.prom.port"), port.path("containerPort").asText());
        // TaskManager pods are owned by the JobManager deployment (1 replica): only an absolute minAvailable of
        // TaskManagers - 1 protects them during drains.
        int slots = Integer.parseInt(flink.get("taskmanager.numberOfTaskSlots"));
        int taskManagers = (spec.path("job").path("parallelism").asInt() + slots - 1) / slots;
        List<JsonNode> taskManagerBudgets = rendered.ofKind("PodDisruptionBudget").stream().filter(b -> b.path("spec")
                .path("selector").path("matchLabels").path("app").asText().equals(name)).toList();
        for (JsonNode pdb : taskManagerBudgets) {
            JsonNode labels = pdb.path("spec").path("selector").path("matchLabels");
            assertEquals("taskmanager", labels.path("component").asText());
            assertFalse(pdb.path("spec").has("maxUnavailable"), "maxUnavailable is computed against 1 replica");
            assertTrue(pdb.path("spec").path("minAvailable").isInt(), "an absolute minAvailable");
            assertEquals(taskManagers - 1, pdb.path("spec").path("minAvailable").asInt(), overlay);
        }
        assertEquals(taskManagers > 1 ? 1 : 0, taskManagerBudgets.size(),
                "a disruption budget where there is more than one TaskManager");

        // The engine's cache (DJL_CACHE_DIR of the image) and the job's local copies are on writable volumes.
        List<String> writable = new ArrayList<>();
        for (JsonNode mount : rendered.mainContainer().path("volumeMounts")) {
            if (!mount.path("readOnly").asBoolean()) {
                writable.add(mount.path("mountPath").asText());
            }
        }
        String djlCache = JobImageTest.env(JobImageTest.instructions(
                FlinkProcessCluster.projectRoot().resolve("k8s/images/Dockerfile"))).get("DJL_CACHE_DIR");
        assertTrue(writable.contains(djlCache), djlCache + " in " + writable);
        String cacheDir = rendered.jobConfig().runtime().cacheDirectory();
        assertTrue(writable.stream().anyMatch(w -> Path.of(URI.create(cacheDir)).startsWith(w)),
                cacheDir + " in " + writable);

        // A dev volume: every file:// location is on a mounted volume.
        for (String location : List.of(flink.get("execution.checkpointing.dir"), flink.get("high-availability"
                + ".storageDir"), rendered.jobConfig().retrieval().index())) {
            if (location.startsWith("file:")) {
                assertTrue(writable.stream().anyMatch(w -> Path.of(URI.create(location)).startsWith(w)),
                        location + " in " + writable);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod", "remote-scoring"})
    void theProcessSizesGiveValidFlinkMemoryLayouts(String overlay) throws Exception {
        RenderedManifests rendered = RenderedManifests.render(overlay);
        JsonNode spec = rendered.one("FlinkDeployment").path("spec");
        Configuration flink = Configuration.fromMap(rendered.flinkConfiguration());
        // What the operator derives from the resource sizes, through Flink's own memory calculation.
        flink.setString("taskmanager.memory.process.size", spec.path("taskManager").path("resource").path("memory")
                .asText());
        TaskExecutorProcessSpec taskManager = TaskExecutorProcessUtils.processSpecFromConfig(flink);
        assertTrue(taskManager.getJvmOverheadSize().getBytes() >= taskManager.getTotalProcessMemorySize().getBytes()
                / 5, "room for the engine's native memory: " + taskManager);
        assertTrue(taskManager.getTaskHeapSize().getMebiBytes() >= 512, "task heap: " + taskManager);
        flink.setString("jobmanager.memory.process.size", spec.path("jobManager").path("resource").path("memory")
                .asText());
        assertTrue(JobManagerProcessUtils.processSpecFromConfig(flink).getJvmHeapMemorySize().getMebiBytes() >= 512,
                overlay);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod", "remote-scoring"})
    void theJobConfigurationIsOneTheJobAcceptsAndTheTopicsAreItsTopics(String overlay) throws Exception {
        RenderedManifests rendered = RenderedManifests.render(overlay);
        // Parsed by the job's own parser (unknown keys and missing required keys are errors), with every location a
        // URI as a cluster submission requires.
        PipelineConfig config = rendered.jobConfig();
        PipelineConfig.Kafka kafka = config.kafka();
        assertNotNull(kafka, "the deployment reads and writes Kafka");
        assertFalse(kafka.createTopics(), "topics are the KafkaTopics' to create");
        assertEquals(null, config.runtime().checkpointDirectory(), "state locations are the FlinkDeployment's");
        assertEquals(null, config.runtime().parallelism(), "parallelism is the FlinkDeployment's");

        List<JsonNode> topics = rendered.ofKind("KafkaTopic");
        String cluster = topics.get(0).path("metadata").path("labels").path("strimzi.io/cluster").asText();
        assertFalse(cluster.isEmpty());
        assertTrue(kafka.bootstrapServers().startsWith(cluster + "-kafka-bootstrap:"), kafka.bootstrapServers());
        for (KafkaTopics.Spec expected : KafkaTopicSetup.specs(kafka)) {
            JsonNode topic = topics.stream().filter(t -> t.path("spec").path("topicName").asText().equals(
                    expected.name())).findFirst().orElseThrow(() -> new AssertionError(overlay + ": no KafkaTopic "
                            + expected.name()));
            assertEquals(cluster, topic.path("metadata").path("labels").path("strimzi.io/cluster").asText());
            if (expected.partitions() != null) {
                assertEquals(expected.partitions().intValue(), topic.path("spec").path("partitions").asInt(),
                        expected.name());
            }
            expected.configs().forEach((key, value) -> assertEquals(value,
                    topic.path("spec").path("config").path(key).asText(), expected.name() + " " + key));
        }
        JsonNode documents = topics.stream().filter(t -> t.path("spec").path("topicName").asText()
                .equals(kafka.documentsTopic())).findFirst().orElseThrow();
        assertTrue(documents.path("spec").path("partitions").asInt() > 1, "documents: several partitions");
    }

    @Test
    void theScoringServersServeWhereTheJobLooksAndScaleOnTheirQueue() throws Exception {
        RenderedManifests rendered = RenderedManifests.render("remote-scoring");
        JsonNode deployment = rendered.ofKind("Deployment").stream().filter(d -> d.path("metadata").path("name")
                .asText().equals("policylong-scoring")).findFirst().orElseThrow();
        JsonNode spec = deployment.path("spec");
        JsonNode labels = spec.path("selector").path("matchLabels");
        assertEquals(labels, spec.path("template").path("metadata").path("labels"), "the selector selects its pods");
        JsonNode pod = spec.path("template").path("spec");
        JsonNode container = pod.path("containers").get(0);

        // The serving image of this version, the GPU variant on GPU nodes with one GPU each.
        assertEquals("registry.example.com/policylong/policylong-serve:" + pom.get("project.version") + "-gpu",
                container.path("image").asText());
        assertEquals("1", container.path("resources").path("limits").path("nvidia.com/gpu").asText());
        assertEquals("true", pod.path("nodeSelector").path("nvidia.com/gpu.present").asText());

        // The arguments are ones `serve` accepts; it listens on every interface, on the port the probes use.
        List<String> args = new ArrayList<>();
        container.path("args").forEach(a -> args.add(a.asText()));
        io.policylong.serving.ServeCommand serve = new io.policylong.serving.ServeCommand();
        picocli.CommandLine.ParseResult parsed = new picocli.CommandLine(serve).parseArgs(args.toArray(String[]::new));
        assertEquals("0.0.0.0", parsed.matchedOptionValue("--host", ""));
        int port = parsed.matchedOptionValue("--port", 0);
        long drain = parsed.matchedOptionValue("--drain", 30L);
        assertTrue(pod.path("terminationGracePeriodSeconds").asLong() > drain, "the drain fits the grace period");
        JsonNode http = container.path("ports").get(0);
        assertEquals(port, http.path("containerPort").asInt());
        assertEquals("/v2/health/ready", container.path("readinessProbe").path("httpGet").path("path").asText());
        assertEquals(http.path("name").asText(), container.path("readinessProbe").path("httpGet").path("port")
                .asText());
        assertEquals("/v2/health/live", container.path("livenessProbe").path("httpGet").path("path").asText());

        // The job calls the Service, which reaches the servers' port.
        JsonNode service = rendered.ofKind("Service").stream().filter(x -> x.path("metadata").path("name").asText()
                .equals("policylong-scoring")).findFirst().orElseThrow();
        assertEquals(labels, service.path("spec").path("selector"));
        JsonNode servicePort = service.path("spec").path("ports").get(0);
        assertEquals(http.path("name").asText(), servicePort.path("targetPort").asText());
        PipelineConfig job = rendered.jobConfig();
        assertTrue(job.scoring().isRemote(), "the job scores on the servers");
        assertEquals(List.of("http://policylong-scoring:" + servicePort.path("port").asInt()),
                job.scoring().remote().endpoints());

        // The servers read the checkpoints the job announces on the shared volume, read-only.
        String claim = null;
        for (JsonNode v : pod.path("volumes")) {
            if (v.has("persistentVolumeClaim")) {
                claim = v.path("persistentVolumeClaim").path("claimName").asText();
            }
        }
        assertEquals(rendered.one("PersistentVolumeClaim").path("metadata").path("name").asText(), claim);
        boolean dataReadOnly = false;
        for (JsonNode m : container.path("volumeMounts")) {
            if (m.path("mountPath").asText().equals("/data")) {
                dataReadOnly = m.path("readOnly").asBoolean();
            }
        }
        assertTrue(dataReadOnly, "/data mounted read-only");
        assertTrue(job.retrieval().index().startsWith("file:///data/"), job.retrieval().index());

        // Disruptions leave a server up; the autoscaler scales this Deployment on a metric the server exports.
        JsonNode pdb = rendered.ofKind("PodDisruptionBudget").stream().filter(b -> b.path("spec").path("selector")
                .path("matchLabels").equals(labels)).findFirst().orElseThrow();
        JsonNode hpa = rendered.one("HorizontalPodAutoscaler").path("spec");
        assertTrue(pdb.path("spec").path("minAvailable").asInt() < hpa.path("minReplicas").asInt());
        assertEquals("Deployment", hpa.path("scaleTargetRef").path("kind").asText());
        assertEquals("policylong-scoring", hpa.path("scaleTargetRef").path("name").asText());
        String metric = hpa.path("metrics").get(0).path("pods").path("metric").path("name").asText();
        String exported = new String(new io.policylong.serving.ServerMetrics(() -> 0, () -> 0).scrape(),
                java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(exported.contains("\n" + metric + " "), metric + " is exported:\n" + exported);
        JsonNode monitor = rendered.ofKind("PodMonitor").stream().filter(m -> m.path("spec").path("selector")
                .path("matchLabels").equals(labels)).findFirst().orElseThrow();
        assertEquals(http.path("name").asText(), monitor.path("spec").path("podMetricsEndpoints").get(0).path("port")
                .asText());
        assertEquals("/metrics", monitor.path("spec").path("podMetricsEndpoints").get(0).path("path").asText());
    }
}
