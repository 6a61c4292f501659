package io.policylong.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.cli.local.LocalKafkaBroker;
import io.policylong.corpus.testing.Corpora;
import io.policylong.pipeline.job.JobFixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The README's Kafka walkthrough in its order, against a fresh broker with no topics: {@code broker}, then
 * {@code run --config conf/kafka.yaml}, then {@code produce-corpus}. The shipped configuration is used with its
 * paths pointed at small fixtures (a tiny checkpoint and index) to keep the test short.
 */
class KafkaWalkthroughTest {
    @TempDir
    Path dir;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static int execute(StringWriter err, String... args) {
        return new CommandLine(new PolicyLong()).setErr(new PrintWriter(err, true)).setOut(new PrintWriter(
                new StringWriter())).execute(args);
    }

    @Test
    void theThreeCommandsInOrderScreenEveryDocument() throws Exception {
        JobFixtures fixtures = JobFixtures.create(Files.createDirectories(dir.resolve("fixtures")));
        StringWriter corpusErr = new StringWriter();
        assertEquals(0, execute(corpusErr, "corpus", "--out", dir.resolve("corpus").toString(), "--brown",
                Corpora.brown().toString()), corpusErr.toString());
        long documents = Files.lines(dir.resolve("corpus/screen.jsonl")).filter(l -> !l.isBlank()).count();

        try (LocalKafkaBroker broker = LocalKafkaBroker.start(dir.resolve("kafka"), "127.0.0.1", freePort())) {
            ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
            ObjectNode config = (ObjectNode) yaml.readTree(Path.of(System.getProperty("policylong.root", ".."))
                    .resolve("conf/kafka.yaml").toFile());
            ((ObjectNode) config.get("kafka")).put("bootstrap-servers", broker.bootstrapServers());
            ((ObjectNode) config.get("policy")).put("checkpoints", dir.resolve("checkpoints").toString())
                    .put("initial-checkpoint", fixtures.v0().toString());
            ((ObjectNode) config.get("retrieval")).put("index", fixtures.index().toString()).remove("corpus");
            ((ObjectNode) config.get("scoring")).put("device", "cpu");
            ((ObjectNode) config.get("runtime")).put("checkpoint-dir", dir.resolve("flink").toString())
                    .put("checkpoint-interval", "2s").put("web-ui-port", freePort());
            Path configFile = dir.resolve("kafka.yaml");
            yaml.writeValue(configFile.toFile(), config);

            StringWriter runErr = new StringWriter();
            CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> execute(runErr, "run", "--config",
                    configFile.toString(), "--until-idle", "15"));
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (!runErr.toString().contains("started;") && !run.isDone() && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertTrue(runErr.toString().contains("started;"), runErr.toString());

            StringWriter produceErr = new StringWriter();
            assertEquals(0, execute(produceErr, "produce-corpus", "--kafka", broker.bootstrapServers(),
                    dir.resolve("corpus/screen.jsonl").toString()), produceErr.toString());

            int exit = run.get(5, TimeUnit.MINUTES);
            String printed = runErr.toString();
            assertEquals(0, exit, printed);
            assertTrue(printed.contains("created Kafka topics policylong.documents, policylong.policies, "
                    + "policylong.samples, policylong.dead-letters"), printed);
            Matcher idle = Pattern.compile("(\\d+) documents, all screened under the newest version (\\d+)")
                    .matcher(printed);
            assertTrue(idle.find(), printed);
            assertEquals(documents, Long.parseLong(idle.group(1)), "every produced document was screened");
            assertEquals("0", idle.group(2));
        }
    }
}
