package io.policylong.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * What can be checked of the container images ({@code k8s/images/}) without an image builder: the build context
 * that {@code build.sh} assembles holds every file the Dockerfiles copy, their build arguments default to the parent
 * pom's versions, the base image is pinned, and the step that unpacks the engine's natives at image build time
 * really leaves a TaskManager nothing to unpack.
 */
class JobImageTest {
    private static final Path IMAGES = FlinkProcessCluster.projectRoot().resolve("k8s/images");
    private static Map<String, String> versions;
    private static Map<String, String> pom;

    @BeforeAll
    static void read() throws Exception {
        FlinkProcessCluster.jobJar();
        versions = envFile(FlinkProcessCluster.projectRoot().resolve("flink-jobs/target/image/versions.env"));
        pom = pomProperties(FlinkProcessCluster.projectRoot().resolve("pom.xml"));
    }

    /** {@code KEY=VALUE} lines, comments aside. */
    static Map<String, String> envFile(Path file) throws IOException {
        Map<String, String> map = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                int eq = line.indexOf('=');
                map.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return map;
    }

    /** The {@code <properties>} of a pom, and its version as {@code project.version}. */
    static Map<String, String> pomProperties(Path pomFile) throws Exception {
        Element project = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pomFile.toFile())
                .getDocumentElement();
        Map<String, String> map = new TreeMap<>();
        for (Node n = project.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals("version")) {
                map.put("project.version", e.getTextContent().trim());
            }
            if (n instanceof Element e && e.getTagName().equals("properties")) {
                for (Node p = e.getFirstChild(); p != null; p = p.getNextSibling()) {
                    if (p instanceof Element property) {
                        map.put(property.getTagName(), property.getTextContent().trim());
                    }
                }
            }
        }
        return map;
    }

    /** The Dockerfile's instructions, continuation lines joined, comments dropped. */
    static List<String> instructions(Path dockerfile) throws IOException {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(dockerfile)) {
            if (line.trim().startsWith("#")) {
                continue;
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            current.append(line);
            if (!current.toString().isBlank()) {
                out.add(current.toString().trim().replaceAll("\\s+", " "));
            }
            current.setLength(0);
        }
        return out;
    }

    /** The default of each {@code ARG NAME=default}. */
    static Map<String, String> argDefaults(List<String> instructions) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String i : instructions) {
            Matcher m = Pattern.compile("ARG (\\w+)=(\\S+)").matcher(i);
            if (m.matches()) {
                map.put(m.group(1), m.group(2));
            }
        }
        return map;
    }

    /** {@code ENV} settings, in the {@code KEY=VALUE ...} form. */
    static Map<String, String> env(List<String> instructions) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String i : instructions) {
            if (i.startsWith("ENV ")) {
                for (String pair : i.substring(4).trim().split(" ")) {
                    int eq = pair.indexOf('=');
                    map.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
        }
        return map;
    }

    @Test
    void theBuildArgumentsAreThePomsVersions() throws Exception {
        assertEquals(pom.get("flink.version"), versions.get("FLINK_VERSION"));
        assertEquals(pom.get("maven.compiler.release"), versions.get("JAVA_VERSION"));
        assertEquals(pom.get("pytorch.native.version"), versions.get("PYTORCH_VERSION"));
        assertEquals(pom.get("djl.version"), versions.get("DJL_VERSION"));
        assertEquals(pom.get("project.version"), versions.get("IMAGE_TAG"));
        assertFalse(versions.values().stream().anyMatch(v -> v.contains("${") || v.isBlank()), versions.toString());

        List<String> job = instructions(IMAGES.resolve("Dockerfile"));
        Map<String, String> args = argDefaults(job);
        assertEquals(versions.get("FLINK_VERSION"), args.get("FLINK_VERSION"));
        assertEquals(versions.get("JAVA_VERSION"), args.get("JAVA_VERSION"));
        List<String> from = job.stream().filter(i -> i.startsWith("FROM ")).toList();
        assertEquals(List.of("FROM flink:${FLINK_VERSION}-java${JAVA_VERSION}"), from, "the official Flink image");
        assertEquals("flink:2.2.1-java17", from.get(0).substring(5).replace("${FLINK_VERSION}", args.get(
                "FLINK_VERSION")).replace("${JAVA_VERSION}", args.get("JAVA_VERSION")), "pinned");

        Map<String, String> gpuArgs = argDefaults(instructions(IMAGES.resolve("Dockerfile.gpu")));
        assertEquals(versions.get("PYTORCH_VERSION"), gpuArgs.get("PYTORCH_VERSION"));
        assertEquals(versions.get("PYTORCH_FLAVOR"), gpuArgs.get("PYTORCH_FLAVOR"));
        for (Path f : List.of(IMAGES.resolve("Dockerfile"), IMAGES.resolve("Dockerfile.gpu"))) {
            assertFalse(Files.readString(f).contains(":latest"), f + " names no latest tag");
        }
    }

    @Test
    void theImagesRunOfflineAsFlinkWithTheEngineCacheAndTheGpuEnvironment() throws Exception {
        List<String> job = instructions(IMAGES.resolve("Dockerfile"));
        Map<String, String> env = env(job);
        assertEquals("true", env.get("DJL_OFFLINE"));
        assertTrue(env.containsKey("ENGINE_CACHE_DIR") && env.containsKey("DJL_CACHE_DIR"), env.toString());
        assertEquals("USER flink", job.stream().filter(i -> i.startsWith("USER ")).reduce((a, b) -> b).orElseThrow());
        assertTrue(job.stream().anyMatch(i -> i.startsWith("RUN java -Dai.djl.offline=true")
                && i.endsWith("io.policylong.model.runtime.EngineNatives")), "natives unpacked at build time");
        assertTrue(job.stream().anyMatch(i -> i.contains("flink-cluster.yaml >> /opt/flink/conf/config.yaml")),
                "the cluster settings applied");

        List<String> gpu = instructions(IMAGES.resolve("Dockerfile.gpu"));
        Map<String, String> gpuEnv = env(gpu);
        assertEquals("compute,utility", gpuEnv.get("NVIDIA_DRIVER_CAPABILITIES"));
        assertEquals("/opt/libtorch/lib", gpuEnv.get("PYTORCH_LIBRARY_PATH"));
        assertEquals("${PYTORCH_VERSION}", gpuEnv.get("PYTORCH_VERSION"));
        assertEquals("${PYTORCH_FLAVOR}", gpuEnv.get("PYTORCH_FLAVOR"));
        assertEquals("USER flink", gpu.stream().filter(i -> i.startsWith("USER ")).reduce((a, b) -> b).orElseThrow());

        // The GPU image loads the JNI bridge of its CUDA flavor from the pytorch-jni jar of cluster-lib/.
        Path clusterLib = FlinkProcessCluster.projectRoot().resolve("flink-jobs/target/cluster-lib");
        Path jni;
        try (Stream<Path> jars = Files.list(clusterLib)) {
            jni = jars.filter(p -> p.getFileName().toString().startsWith("pytorch-jni-")).findFirst().orElseThrow();
        }
        try (JarFile jar = new JarFile(jni.toFile())) {
            String entry = "jnilib/linux-x86_64/" + versions.get("PYTORCH_FLAVOR") + "/libdjl_torch.so";
            assertTrue(jar.getEntry(entry) != null, jni + " holds " + entry);
        }
    }

    @Test
    void stepsThatWriteOutsideFlinksHomeRunAsRoot() throws Exception {
        // The official image ends with USER flink (uid 9999): a RUN that creates directories under /var, changes
        // owners or appends to Flink's configuration must switch to root first.
        for (String dockerfile : List.of("Dockerfile", "Dockerfile.gpu", "Dockerfile.serve")) {
            String user = "flink";
            for (String i : instructions(IMAGES.resolve(dockerfile))) {
                if (i.startsWith("USER ")) {
                    user = i.substring(5).trim();
                }
                if (i.startsWith("RUN ") && (i.contains("chown") || i.contains("mkdir -p /var") || i.contains(
                        "/opt/flink/conf/") || i.contains("rm -f /opt/flink/lib"))) {
                    assertEquals("root", user, dockerfile + ": " + i);
                }
            }
            assertEquals("flink", user, dockerfile + " ends as flink");
        }
    }

    @Test
    void theBuildContextHoldsEveryFileTheDockerfilesCopy(@TempDir Path temp) throws Exception {
        Path libtorch = Files.createDirectories(temp.resolve("libtorch/lib"));
        Files.createFile(libtorch.resolve("libtorch.so"));
        Path context = temp.resolve("context");
        Process build = new ProcessBuilder("bash", IMAGES.resolve("build.sh").toString(), "--gpu",
                temp.resolve("libtorch").toString(), "--context-only", context.toString())
                .redirectErrorStream(true).start();
        String printed = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(build.waitFor(2, TimeUnit.MINUTES) && build.exitValue() == 0, printed);
        for (String dockerfile : List.of("Dockerfile", "Dockerfile.gpu", "Dockerfile.serve")) {
            assertTrue(Files.isRegularFile(context.resolve(dockerfile)), dockerfile + " in the context");
            for (String i : instructions(IMAGES.resolve(dockerfile))) {
                if (i.startsWith("COPY ")) {
                    List<String> parts = new ArrayList<>(List.of(i.substring(5).split(" ")));
                    parts.removeIf(p -> p.startsWith("--"));
                    for (String source : parts.subList(0, parts.size() - 1)) {
                        Path p = context.resolve(source);
                        assertTrue(Files.exists(p), dockerfile + " copies " + source + ", missing from the context");
                        if (Files.isDirectory(p)) {
                            try (Stream<Path> files = Files.list(p)) {
                                assertTrue(files.findAny().isPresent(), source + " is empty");
                            }
                        }
                    }
                }
            }
        }
        try (Stream<Path> jars = Files.list(context.resolve("cluster-lib"))) {
            assertTrue(jars.anyMatch(p -> p.getFileName().toString().startsWith("pytorch-native-cpu-")),
                    "the CPU natives the GPU image removes");
        }
    }

    @Test
    void theScoringImagesEntryPointServesOnItsClassPath(@TempDir Path temp) throws Exception {
        Path context = temp.resolve("context");
        Process build = new ProcessBuilder("bash", IMAGES.resolve("build.sh").toString(), "--context-only",
                context.toString()).redirectErrorStream(true).start();
        String printed = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(build.waitFor(2, TimeUnit.MINUTES) && build.exitValue() == 0, printed);
        // The ENTRYPOINT's class path, with the image's directories mapped to what the build context holds.
        String entrypoint = instructions(IMAGES.resolve("Dockerfile.serve")).stream().filter(i -> i.startsWith(
                "ENTRYPOINT ")).findFirst().orElseThrow();
        List<String> words = new ObjectMapper().readValue(entrypoint.substring("ENTRYPOINT ".length()),
                new com.fasterxml.jackson.core.type.TypeReference<List<String>>() { });
        String imageClasspath = words.get(words.indexOf("-cp") + 1);
        String mainClass = words.get(words.size() - 1);
        String classpath = imageClasspath
                .replace("/opt/flink/usrlib/policylong-job.jar", context.resolve("policylong-job.jar").toString())
                .replace("/opt/flink/lib/*", context.resolve("cluster-lib") + File.separator + "*" + File.pathSeparator
                        + Path.of(System.getProperty("policylong.flink.lib", "target/flink-lib")).toAbsolutePath()
                        + File.separator + "*")
                .replace("/opt/policylong/serve-lib/*", context.resolve("serve-lib") + File.separator + "*");
        Path log = temp.resolve("serve.log");
        Process serve = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", classpath, mainClass, "--checkpoint", FlinkProcessCluster.projectRoot()
                        .resolve("examples/tiny-checkpoint").toString(), "--port", "0", "--device", "cpu")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Matcher port = null;
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            boolean listening = false;
            while (!listening && System.nanoTime() < deadline && serve.isAlive()) {
                port = Pattern.compile("listening on http://127.0.0.1:(\\d+)/").matcher(Files.readString(log));
                listening = port.find();
                Thread.sleep(100);
            }
            assertTrue(listening, "the server started: " + Files.readString(log));
            java.net.http.HttpResponse<String> ready = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port.group(1)
                            + "/v2/health/ready")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ready.statusCode(), ready.body());
        } finally {
            serve.destroy();
            serve.waitFor(1, TimeUnit.MINUTES);
        }
        assertTrue(Files.readString(log).contains("serve: stopped"), Files.readString(log));
    }

    @Test
    void theContextDirectoryIsNeverADirectoryOfSomethingElse(@TempDir Path temp) throws Exception {
        Path precious = Files.writeString(temp.resolve("notes.txt"), "keep me");
        Process build = new ProcessBuilder("bash", IMAGES.resolve("build.sh").toString(), "--context-only",
                temp.toString()).redirectErrorStream(true).start();
        String printed = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(build.waitFor(1, TimeUnit.MINUTES));
        assertEquals(1, build.exitValue(), printed);
        assertTrue(printed.contains("is not empty and not an earlier build context"), printed);
        assertEquals("keep me", Files.readString(precious));
    }

    @Test
    void nativesUnpackedAtBuildTimeLeaveNothingToUnpackAtStart(@TempDir Path temp) throws Exception {
        Path engine = temp.resolve("engine");
        Path djl = Files.createDirectories(temp.resolve("djl"));
        String printed = engineNatives(engine, djl);
        assertTrue(printed.contains("engine-natives: PyTorch"), printed);
        Map<Path, FileTime> unpacked = files(engine);
        assertTrue(unpacked.keySet().stream().anyMatch(p -> p.getFileName().toString().startsWith("libtorch")),
                unpacked.keySet().toString());
        assertTrue(unpacked.keySet().stream().anyMatch(p -> p.getFileName().toString().contains("djl_torch")),
                unpacked.keySet().toString());
        assertTrue(unpacked.keySet().stream().anyMatch(p -> p.getFileName().toString().contains("tokenizers")),
                unpacked.keySet().toString());
        assertEquals(Map.of(), files(djl), "nothing in DJL_CACHE_DIR");

        // A TaskManager starting from the image: the same natives, nothing written.
        engineNatives(engine, djl);
        assertEquals(unpacked, files(engine), "nothing unpacked again");
        assertEquals(Map.of(), files(djl), "nothing in DJL_CACHE_DIR");
    }

    /** Runs EngineNatives the way the Dockerfile does, on the image's classpath (the job jar, then Flink's lib/). */
    private static String engineNatives(Path engine, Path djl) throws Exception {
        String classpath = String.join(File.pathSeparator, FlinkProcessCluster.jobJar().toString(),
                FlinkProcessCluster.projectRoot().resolve("flink-jobs/target/cluster-lib") + File.separator + "*",
                Path.of(System.getProperty("policylong.flink.lib", "target/flink-lib")).toAbsolutePath()
                        + File.separator + "*");
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", classpath, "io.policylong.model.runtime.EngineNatives")
                .redirectErrorStream(true);
        builder.environment().put("ENGINE_CACHE_DIR", engine.toString());
        builder.environment().put("DJL_CACHE_DIR", djl.toString());
        builder.environment().remove("PYTORCH_LIBRARY_PATH");
        Process process = builder.start();
        String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(5, TimeUnit.MINUTES) && process.exitValue() == 0, printed);
        return printed;
    }

    private static Map<Path, FileTime> files(Path dir) throws IOException {
        Map<Path, FileTime> map = new TreeMap<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.filter(Files::isRegularFile).toList()) {
                    map.put(dir.relativize(p), Files.getLastModifiedTime(p));
                }
            }
        }
        return map;
    }
}
