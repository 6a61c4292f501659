package io.policylong.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What the build hands a cluster: a job jar with the job and its libraries but neither Flink, nor the engine's
 * native libraries, nor the command line, the trainer, the corpora or a Kafka broker; and a cluster-lib of the
 * engine's jars.
 */
class ClusterArtifactsTest {
    private static List<String> entries(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.stream().map(e -> e.getName()).toList();
        }
    }

    private static boolean any(List<String> entries, String prefix) {
        return entries.stream().anyMatch(e -> e.startsWith(prefix));
    }

    @Test
    void theJobJarHoldsTheJobAndNothingThatMustNotRunOnTaskManagers() throws Exception {
        Path jar = FlinkProcessCluster.jobJar();
        try (JarFile file = new JarFile(jar.toFile())) {
            assertEquals("io.policylong.pipeline.ScreeningJobMain",
                    file.getManifest().getMainAttributes().getValue("Main-Class"));
        }
        List<String> entries = entries(jar);
        for (String present : List.of("io/policylong/pipeline/ScreeningJobMain.class", "io/policylong/records/",
                "io/policylong/policy/", "io/policylong/connectors/", "io/policylong/model/", "org/apache/lucene/",
                "org/apache/flink/connector/kafka/", "org/apache/kafka/clients/")) {
            assertTrue(any(entries, present), present + " is in the job jar");
        }
        for (String absent : List.of("io/policylong/cli/", "io/policylong/trainer/", "io/policylong/corpus/",
                "org/apache/lucene/tests/", "picocli/", "kafka/server/", "org/apache/kafka/controller/", "org/apache/kafka/raft/", "scala/",
                "org/apache/flink/runtime/", "org/apache/flink/streaming/api/", "org/apache/flink/state/rocksdb/",
                "org/apache/flink/connector/file/", "org/apache/flink/connector/base/", "ai/djl/", "com/sun/jna/",
                "native/lib/", "org/slf4j/", "org/apache/logging/log4j/")) {
            assertFalse(any(entries, absent), absent + " must not be in the job jar");
        }
        // Lucene finds its codecs through service files, merged from every Lucene jar.
        try (JarFile file = new JarFile(jar.toFile())) {
            String codecs = new String(file.getInputStream(file.getEntry(
                    "META-INF/services/org.apache.lucene.codecs.Codec")).readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(codecs.contains("org.apache.lucene.codecs.lucene912.Lucene912Codec"), codecs);
        }
    }

    @Test
    void clusterLibHoldsTheEngineAndNoFlink() throws Exception {
        Path lib = FlinkProcessCluster.projectRoot().resolve("flink-jobs/target/cluster-lib");
        List<String> jars = new ArrayList<>();
        try (Stream<Path> files = Files.list(lib)) {
            files.forEach(f -> jars.add(f.getFileName().toString()));
        }
        for (String prefix : List.of("api-", "pytorch-engine-", "pytorch-jni-", "pytorch-native-cpu-", "tokenizers-",
                "jna-", "gson-")) {
            assertTrue(jars.stream().anyMatch(j -> j.startsWith(prefix)), prefix + "* in " + jars);
        }
        assertTrue(jars.stream().noneMatch(j -> j.startsWith("flink-") || j.startsWith("kafka")
                || j.startsWith("lucene") || j.startsWith("policylong")), jars.toString());
        // Nothing that Flink's own lib/ already has (another version of it would come first or second at random).
        List<String> flinkLib = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of(System.getProperty("policylong.flink.lib")))) {
            files.forEach(f -> flinkLib.add(artifact(f.getFileName().toString())));
        }
        for (String jar : jars) {
            assertFalse(flinkLib.contains(artifact(jar)), jar + " is already in Flink's lib/");
        }
    }

    /** A jar's artifact name without its version ({@code commons-io-2.15.1.jar} -> {@code commons-io}). */
    private static String artifact(String jar) {
        return jar.replaceAll("-\\d.*$", "");
    }
}
