package io.policylong.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Flink standalone session cluster for tests: one JobManager process
 * ({@code StandaloneSessionClusterEntrypoint}) and TaskManager processes ({@code TaskManagerRunner}), each its own
 * JVM, every listener on the loopback address. The processes run from the jars that make up a Flink
 * distribution's {@code lib/}, resolved from Maven Central (flink-dist itself is not published there: the
 * system tests' runtime dependencies, in {@code target/flink-lib}; the Prometheus reporter as a plugin, in
 * {@code target/flink-plugins}), plus the job's
 * {@code cluster-lib/}; their configuration is the distribution's defaults that matter here (its Java 17
 * flags), {@code conf/flink-cluster.yaml} merged in, and the test's settings. JVM options are taken from
 * {@code env.java.opts.*} the way Flink's start scripts apply them, so the settings in
 * {@code flink-cluster.yaml} are really the ones tested.
 */
final class FlinkProcessCluster implements AutoCloseable {
    /** The JVM options of a Flink 2.2 distribution's default configuration (Java 17 module access). */
    static final String DISTRIBUTION_JAVA_OPTS = String.join(" ",
            "-XX:+IgnoreUnrecognizedVMOptions",
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED", "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED", "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    /** Explicit TaskManager memory (a TaskManager started without Flink's scripts needs every component set). */
    private static final Map<String, String> TASK_MANAGER_MEMORY = Map.of(
            "taskmanager.cpu.cores", "1",
            "taskmanager.memory.framework.heap.size", "128m",
            "taskmanager.memory.task.heap.size", "512m",
            "taskmanager.memory.framework.off-heap.size", "128m",
            "taskmanager.memory.task.off-heap.size", "0m",
            "taskmanager.memory.managed.size", "128m",
            "taskmanager.memory.network.min", "64m",
            "taskmanager.memory.network.max", "64m",
            "taskmanager.memory.jvm-metaspace.size", "256m",
            "taskmanager.memory.jvm-overhead.min", "192m");

    private final Path work;
    private final Path conf;
    private final Path logs;
    private final String classpath;
    private final Map<String, String> config;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final FlinkRest rest;
    private final boolean quickStart;

    private FlinkProcessCluster(Path work, String classpath, Map<String, String> config, boolean quickStart) {
        this.quickStart = quickStart;
        this.work = work;
        this.conf = work.resolve("conf");
        this.logs = work.resolve("log");
        this.classpath = classpath;
        this.config = config;
        this.rest = new FlinkRest("http://127.0.0.1:" + config.get("rest.port"));
    }

    /** The project's root directory. */
    static Path projectRoot() {
        return Path.of(System.getProperty("policylong.root", "..")).toAbsolutePath().normalize();
    }

    /** The job jar of the build, refused when it is older than the job's compiled classes. */
    static Path jobJar() throws IOException {
        Path jar = projectRoot().resolve("flink-jobs/target/policylong-job.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: the system tests run after `mvn package` of flink-jobs "
                    + "(run them with `mvn verify`, with -am when selecting this module)");
        }
        long built = Files.getLastModifiedTime(jar).toMillis();
        try (Stream<Path> classes = Files.walk(projectRoot().resolve("flink-jobs/target/classes"))) {
            if (classes.anyMatch(c -> c.toFile().lastModified() > built)) {
                throw new IllegalStateException(jar + " is older than flink-jobs' classes: build it again (`mvn "
                        + "verify -pl system-tests -am`)");
            }
        }
        return jar;
    }

    /**
     * Starts a JobManager and {@code taskManagers} TaskManagers with {@code slots} slots each, and waits until
     * every slot is registered.
     *
     * @param extraLib further jars for the cluster's classpath (a test file system, for example)
     * @param settings test settings, applied last
     */
    static FlinkProcessCluster start(Path work, int taskManagers, int slots, List<Path> extraLib,
            Map<String, String> settings) throws Exception {
        return start(work, taskManagers, slots, extraLib, settings, true);
    }

    /**
     * As {@link #start(Path, int, int, List, Map)}; {@code quickStart} trades peak speed for start-up time (the
     * client compiler only, the serial collector), which suits tests but not measurements.
     */
    static FlinkProcessCluster start(Path work, int taskManagers, int slots, List<Path> extraLib,
            Map<String, String> settings, boolean quickStart) throws Exception {
        Path flinkLib = Path.of(System.getProperty("policylong.flink.lib", "target/flink-lib"));
        Path clusterLib = projectRoot().resolve("flink-jobs/target/cluster-lib");
        for (Path dir : List.of(flinkLib, clusterLib)) {
            if (!Files.isDirectory(dir)) {
                throw new IllegalStateException(dir + " is missing: run the system tests with `mvn verify`");
            }
        }
        List<String> entries = new ArrayList<>();
        entries.add(flinkLib.toAbsolutePath() + File.separator + "*");
        entries.add(clusterLib.toAbsolutePath() + File.separator + "*");
        extraLib.forEach(p -> entries.add(p.toAbsolutePath().toString()));

        Map<String, String> config = new LinkedHashMap<>();
        config.put("env.java.opts.all", DISTRIBUTION_JAVA_OPTS);
        config.putAll(readFlatYaml(projectRoot().resolve("conf/flink-cluster.yaml")));
        config.put("jobmanager.rpc.address", "127.0.0.1");
        config.put("jobmanager.rpc.port", String.valueOf(freePort()));
        config.put("jobmanager.bind-host", "127.0.0.1");
        config.put("taskmanager.host", "127.0.0.1");
        config.put("taskmanager.bind-host", "127.0.0.1");
        config.put("rest.address", "127.0.0.1");
        config.put("rest.bind-address", "127.0.0.1");
        config.put("rest.port", String.valueOf(freePort()));
        config.put("blob.server.port", "0");
        config.put("taskmanager.numberOfTaskSlots", String.valueOf(slots));
        config.put("taskmanager.load-balance.mode", "slots");
        config.putAll(TASK_MANAGER_MEMORY);
        config.put("taskmanager.memory.jvm-overhead.max", "192m");
        // A TaskManager that dies is noticed within seconds, and jobs restart from their last checkpoint.
        config.put("heartbeat.interval", "1000");
        config.put("heartbeat.timeout", "5000");
        config.put("restart-strategy.type", "fixed-delay");
        config.put("restart-strategy.fixed-delay.attempts", "30");
        config.put("restart-strategy.fixed-delay.delay", "1 s");
        config.put("cluster.registration.error-delay", "1 s");
        config.put("web.refresh-interval", "500 ms");
        config.put("web.upload.dir", work.resolve("web-upload").toString());
        config.put("web.tmpdir", work.resolve("web-tmp").toString());
        config.put("io.tmp.dirs", work.resolve("tmp").toString());
        config.putAll(settings);

        FlinkProcessCluster cluster = new FlinkProcessCluster(work, String.join(File.pathSeparator, entries), config,
                quickStart);
        try {
            cluster.writeConfiguration();
            cluster.launch("jobmanager", "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                    "jobmanager", List.of("-Xmx512m", "-Xms512m"), List.of());
            FlinkRest.await(() -> cluster.rest.get("/overview"), n -> true, Duration.ofMinutes(2),
                    "the JobManager's REST endpoint");
            for (int i = 1; i <= taskManagers; i++) {
                cluster.startTaskManager("tm-" + i);
            }
            cluster.awaitSlots(taskManagers * slots);
            return cluster;
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
    }

    /** The REST API of the JobManager. */
    FlinkRest rest() {
        return rest;
    }

    /** The JobManager's REST address ({@code 127.0.0.1:port}). */
    String restAddress() {
        return "127.0.0.1:" + config.get("rest.port");
    }

    /** The configuration directory (what {@code FLINK_CONF_DIR} points at). */
    Path configurationDirectory() {
        return conf;
    }

    /** The classpath of the cluster processes. */
    String classpath() {
        return classpath;
    }

    /** Starts a TaskManager with the given resource id (it registers with the JobManager on its own). */
    void startTaskManager(String id) throws IOException {
        launch(id, "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", "taskmanager",
                List.of("-Xmx640m", "-Xms640m", "-XX:MaxDirectMemorySize=192m", "-XX:MaxMetaspaceSize=256m"),
                List.of("-Dtaskmanager.resource-id=" + id, "-Dio.tmp.dirs=" + work.resolve("tmp-" + id)));
    }

    /**
     * Runs the Flink command line client ({@code flink ARGS}) against this cluster, as Flink's {@code bin/flink}
     * would: the cluster's configuration directory and classpath, the client's JVM options. Returns what it
     * printed.
     */
    String flinkCommand(List<String> args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(split(config.get("env.java.opts.all")));
        command.addAll(split(config.get("env.java.opts.client")));
        command.add("-Dlog.file=" + logs.resolve("client.log"));
        command.add("-Dlog4j.configurationFile=" + conf.resolve("log4j.properties").toUri());
        command.add("-cp");
        command.add(classpath);
        command.add("org.apache.flink.client.cli.CliFrontend");
        command.addAll(args);
        Path output = Files.createTempFile(logs, "flink-command-", ".out");
        ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(output.toFile());
        builder.environment().put("FLINK_CONF_DIR", conf.toString());
        builder.environment().remove("DJL_OFFLINE");
        Process process = builder.start();
        if (!process.waitFor(3, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IllegalStateException("flink " + args + " did not finish: " + Files.readString(output));
        }
        String printed = Files.readString(output);
        if (process.exitValue() != 0) {
            throw new IllegalStateException("flink " + args + " exited with " + process.exitValue() + ":\n" + printed);
        }
        return printed;
    }

    /** Kills a process with SIGKILL, as a crash or an out-of-memory kill would, and waits for it to be gone. */
    void kill(String id) throws InterruptedException {
        Process p = processes.remove(id);
        if (p == null) {
            throw new IllegalArgumentException("no process " + id);
        }
        p.destroyForcibly();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(id + " did not die");
        }
    }

    /** Waits until the cluster has this many registered slots. */
    void awaitSlots(int total) throws Exception {
        FlinkRest.await(() -> rest.get("/overview"), n -> n.get("slots-total").asInt() == total,
                Duration.ofMinutes(2), total + " slots");
    }

    /** The lines of every process's log and output that contain {@code text}. */
    List<String> logLines(String text) throws IOException {
        List<String> found = new ArrayList<>();
        if (!Files.isDirectory(logs)) {
            return found;
        }
        try (Stream<Path> files = Files.list(logs)) {
            for (Path f : files.toList()) {
                for (String line : Files.readAllLines(f, StandardCharsets.ISO_8859_1)) {
                    if (line.contains(text)) {
                        found.add(f.getFileName() + ": " + line);
                    }
                }
            }
        }
        return found;
    }

    private void launch(String id, String mainClass, String role, List<String> memory, List<String> dynamic)
            throws IOException {
        Files.createDirectories(logs);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(split(config.get("env.java.opts.all")));
        command.addAll(split(config.get("env.java.opts." + role)));
        command.addAll(memory);
        if (quickStart) {
            // Quicker start-up on small machines; not a Flink setting.
            command.add("-XX:TieredStopAtLevel=1");
            command.add("-XX:+UseSerialGC");
        }
        command.add("-Dlog.file=" + logs.resolve(id + ".log"));
        command.add("-Dlog4j.configurationFile=" + conf.resolve("log4j.properties").toUri());
        command.add("-cp");
        command.add(classpath);
        command.add(mainClass);
        command.add("--configDir");
        command.add(conf.toString());
        command.addAll(dynamic);
        ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile())
                .redirectErrorStream(true).redirectOutput(logs.resolve(id + ".out").toFile());
        builder.environment().put("FLINK_CONF_DIR", conf.toString());
        // Plugins (the metric reporters) from their own folders, as in a distribution's plugins/.
        builder.environment().put("FLINK_PLUGINS_DIR", Path.of(System.getProperty("policylong.flink.plugins",
                "target/flink-plugins")).toAbsolutePath().toString());
        // Offline mode must come from the cluster settings under test, not from the build's environment.
        builder.environment().remove("DJL_OFFLINE");
        processes.put(id, builder.start());
    }

    private static List<String> split(String options) {
        return options == null || options.isBlank() ? List.of() : List.of(options.trim().split("\\s+"));
    }

    private void writeConfiguration() throws IOException {
        Files.createDirectories(conf);
        StringBuilder yaml = new StringBuilder();
        for (Map.Entry<String, String> e : config.entrySet()) {
            yaml.append(e.getKey()).append(": ").append(new ObjectMapper().writeValueAsString(e.getValue()))
                    .append('\n');
        }
        Files.writeString(conf.resolve("config.yaml"), yaml);
        Files.writeString(conf.resolve("log4j.properties"), String.join("\n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.main.ref = MainAppender",
                "appender.main.name = MainAppender",
                "appender.main.type = File",
                "appender.main.append = true",
                "appender.main.fileName = ${sys:log.file}",
                "appender.main.layout.type = PatternLayout",
                "appender.main.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-40c{1} - %m%n",
                "logger.kafka.name = org.apache.kafka",
                "logger.kafka.level = WARN",
                ""));
    }

    /** A configuration file of flat {@code key: value} lines, as Flink reads it. */
    static Map<String, String> readFlatYaml(Path file) throws IOException {
        JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
        Map<String, String> map = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isValueNode()) {
                throw new IllegalArgumentException(file + ": " + e.getKey() + " must be a flat value");
            }
            map.put(e.getKey(), e.getValue().asText());
        }
        return map;
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Stops every process: SIGTERM first, SIGKILL for what is still alive after 20 seconds. */
    @Override
    public void close() {
        for (Process p : processes.values()) {
            p.destroy();
        }
        for (Process p : processes.values()) {
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        processes.clear();
    }
}
