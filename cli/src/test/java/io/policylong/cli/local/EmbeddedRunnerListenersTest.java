package io.policylong.cli.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.job.JobFixtures;
import io.policylong.policy.CheckpointAnnouncer;
import io.policylong.records.Document;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded runner opens nothing to the network and takes no jobs through its web UI. */
class EmbeddedRunnerListenersTest {
    @TempDir
    Path dir;

    @Test
    void everyListenerIsOnLoopbackAndJarUploadIsRefused() throws Exception {
        JobFixtures fixtures = JobFixtures.create(dir);
        Path documents = dir.resolve("documents.jsonl");
        Files.write(documents, fixtures.documents().stream().map(Document::toJson).toList());
        new CheckpointAnnouncer(dir.resolve("checkpoints"), "test").announce(fixtures.v0(), 0, null);
        String yaml = String.join("\n",
                "input: {documents: " + documents + "}",
                "policy: {checkpoints: " + dir.resolve("checkpoints") + "}",
                "retrieval: {index: " + fixtures.index() + "}",
                JobFixtures.commonYaml(),
                "output: {samples: " + dir.resolve("samples") + ", dead-letters: " + dir.resolve("dead") + "}",
                "runtime: {checkpoint-dir: " + dir.resolve("flink") + ", web-ui-port: 18081}");
        PipelineConfig config = PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "test")
                .withAbsoluteLocations("test");

        Set<String> before = ListeningSockets.ofThisProcess();
        JobClient client = new EmbeddedRunner(config, new PrintWriter(new StringWriter())).run(null);
        try {
            Set<String> opened = new HashSet<>(ListeningSockets.ofThisProcess());
            opened.removeAll(before);
            assertFalse(opened.isEmpty(), "the web UI listens");
            for (String address : opened) {
                assertTrue(ListeningSockets.loopback(address), address + " is not on the loopback address: "
                        + opened);
            }
            String web = opened.stream().map(a -> a.substring(a.lastIndexOf(':') + 1)).filter(port -> port
                    .startsWith("180")).findFirst().map(port -> "http://127.0.0.1:" + port)
                    .orElseThrow(() -> new AssertionError("no web UI in " + opened));
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            JsonNode features = new ObjectMapper().readTree(http.send(HttpRequest.newBuilder(URI.create(web
                    + "/config")).GET().build(), HttpResponse.BodyHandlers.ofString()).body()).get("features");
            assertFalse(features.get("web-submit").asBoolean(), features.toString());
            assertFalse(features.get("web-cancel").asBoolean(), features.toString());
            HttpResponse<String> upload = http.send(HttpRequest.newBuilder(URI.create(web + "/jars/upload"))
                    .header("Content-Type", "multipart/form-data; boundary=x")
                    .POST(HttpRequest.BodyPublishers.ofString("--x--\r\n")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(upload.statusCode() >= 400, "jar upload refused: " + upload.statusCode() + " " + upload.body());
            assertEquals(0, http.send(HttpRequest.newBuilder(URI.create(web + "/jars")).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() / 100 == 2 ? 1 : 0, "no jar listing");
        } finally {
            client.cancel().get();
        }
    }
}
