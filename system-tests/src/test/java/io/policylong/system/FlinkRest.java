package io.policylong.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/** The Flink REST API calls the cluster tests use: upload and run a jar, job state, placement, stop, cancel. */
final class FlinkRest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    // Flink's REST server speaks HTTP/1.1 only.
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    FlinkRest(String base) {
        this.base = base;
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IOException("GET " + path + ": " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    private JsonNode send(String method, String path, JsonNode body) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofMinutes(2)).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body == null ? "{}" : body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IOException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        }
        return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
    }

    /** Uploads a jar ({@code POST /jars/upload}); returns its id. */
    String uploadJar(Path jar) throws IOException, InterruptedException {
        String boundary = "policylong-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
                .timeout(Duration.ofMinutes(2)).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("jar upload: " + r.statusCode() + " " + r.body());
        }
        String file = JSON.readTree(r.body()).get("filename").asText();
        return file.substring(file.lastIndexOf('/') + 1);
    }

    /**
     * Runs an uploaded jar's main class ({@code POST /jars/{id}/run}) with the manifest's entry class; returns the
     * job id.
     *
     * @param savepoint a savepoint to start from, or null
     */
    String runJar(String jarId, List<String> args, Integer parallelism, String savepoint)
            throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode();
        body.putPOJO("programArgsList", args);
        if (parallelism != null) {
            body.put("parallelism", parallelism);
        }
        if (savepoint != null) {
            body.put("savepointPath", savepoint);
            body.put("allowNonRestoredState", false);
        }
        return send("POST", "/jars/" + jarId + "/run", body).get("jobid").asText();
    }

    /** The job's state ({@code RUNNING}, {@code FINISHED}, ...). */
    String jobState(String jobId) throws IOException, InterruptedException {
        return get("/jobs/" + jobId).get("state").asText();
    }

    /** Whether the job and every one of its tasks are running. */
    boolean allTasksRunning(String jobId) throws IOException, InterruptedException {
        JsonNode job = get("/jobs/" + jobId);
        if (!job.get("state").asText().equals("RUNNING")) {
            return false;
        }
        for (JsonNode vertex : job.get("vertices")) {
            if (!vertex.get("status").asText().equals("RUNNING")) {
                return false;
            }
        }
        return true;
    }

    /** The TaskManagers that run the job's tasks. */
    Set<String> taskManagersOf(String jobId) throws IOException, InterruptedException {
        Set<String> ids = new HashSet<>();
        for (JsonNode vertex : get("/jobs/" + jobId).get("vertices")) {
            JsonNode placed = get("/jobs/" + jobId + "/vertices/" + vertex.get("id").asText() + "/taskmanagers");
            for (JsonNode tm : placed.get("taskmanagers")) {
                ids.add(tm.get("taskmanager-id").asText());
            }
        }
        return ids;
    }

    /**
     * The sum over every task of a job's metric whose name ends with {@code .name} (operator metrics are named
     * {@code <operator>.<metric>}), or 0 while none is registered.
     */
    long metricSum(String jobId, String name) throws IOException, InterruptedException {
        long sum = 0;
        for (JsonNode vertex : get("/jobs/" + jobId).get("vertices")) {
            String path = "/jobs/" + jobId + "/vertices/" + vertex.get("id").asText() + "/subtasks/metrics";
            List<String> names = new ArrayList<>();
            for (JsonNode m : get(path)) {
                String id = m.get("id").asText();
                if (id.endsWith("." + name)) {
                    names.add(id);
                }
            }
            if (!names.isEmpty()) {
                for (JsonNode m : get(path + "?agg=sum&get=" + String.join(",", names))) {
                    sum += Math.round(m.get("sum").asDouble());
                }
            }
        }
        return sum;
    }

    /** Number of times the job has restarted from a checkpoint. */
    long restoredCheckpoints(String jobId) throws IOException, InterruptedException {
        return get("/jobs/" + jobId + "/checkpoints").get("counts").get("restored").asLong();
    }

    /** Ids of the running jobs. */
    List<String> runningJobs() throws IOException, InterruptedException {
        List<String> ids = new ArrayList<>();
        for (JsonNode job : get("/jobs").get("jobs")) {
            if (job.get("status").asText().equals("RUNNING")) {
                ids.add(job.get("id").asText());
            }
        }
        return ids;
    }

    /** Stops the job with a savepoint into {@code directory}; returns the savepoint's location. */
    String stopWithSavepoint(String jobId, String directory, Duration timeout) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.put("drain", false);
        body.put("targetDirectory", directory);
        String request = send("POST", "/jobs/" + jobId + "/stop", body).get("request-id").asText();
        JsonNode done = await(() -> get("/jobs/" + jobId + "/savepoints/" + request),
                n -> n.get("status").get("id").asText().equals("COMPLETED"), timeout, "savepoint of " + jobId);
        JsonNode operation = done.get("operation");
        if (operation.has("failure-cause")) {
            throw new IllegalStateException("stop with savepoint failed: " + operation.get("failure-cause"));
        }
        return operation.get("location").asText();
    }

    /** Cancels a job. */
    void cancel(String jobId) throws IOException, InterruptedException {
        send("PATCH", "/jobs/" + jobId + "?mode=cancel", null);
    }

    /** A call that may fail while the cluster is busy. */
    @FunctionalInterface
    interface Call<T> {
        T call() throws Exception;
    }

    /** Polls {@code call} until {@code done} accepts its result; fails with {@code what} after {@code timeout}. */
    static <T> T await(Call<T> call, Predicate<T> done, Duration timeout, String what) throws Exception {
        return await(call, done, timeout, Duration.ofMillis(200), what);
    }

    /** As {@link #await(Call, Predicate, Duration, String)}, calling every {@code interval}. */
    static <T> T await(Call<T> call, Predicate<T> done, Duration timeout, Duration interval, String what)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                T value = call.call();
                if (done.test(value)) {
                    return value;
                }
                last = null;
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(interval.toMillis());
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what
                + (last == null ? "" : " (last error: " + last.getMessage() + ")"));
    }
}
