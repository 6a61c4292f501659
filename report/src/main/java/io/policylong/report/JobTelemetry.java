package io.policylong.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * What the screening job measured of its own run ({@code loop} writes it as {@code job-metrics.json}): throughput
 * over the whole run and, per policy version, the hot-swap latency and how fast its screenings were committed.
 *
 * @param seconds from the first stored document to the last committed screening
 * @param screenings screenings committed, all versions
 * @param documentTokens document tokens whose entropy was scored
 * @param forwardTokens tokens through the model (entropy windows with their left context, and verification)
 * @param positives positive contexts found
 * @param versions one entry per version with a committed screening, ascending
 */
public record JobTelemetry(double seconds, long screenings, long documentTokens, long forwardTokens, long positives,
        List<Version> versions) {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public JobTelemetry {
        versions = List.copyOf(versions);
    }

    /**
     * @param version the policy version
     * @param swapSeconds from its announcement to its first committed screening (watcher polling, loading the
     *     checkpoint and the Flink checkpoint interval included), null when the announcement time is unknown
     * @param screenings screenings under it committed
     * @param screeningSeconds from its first to its last committed screening
     */
    public record Version(long version, Double swapSeconds, long screenings, double screeningSeconds) {
        /** Screenings per second under this version, NaN when they all came at once. */
        public double screeningsPerSecond() {
            return screeningSeconds > 0 ? screenings / screeningSeconds : Double.NaN;
        }
    }

    /** Screenings committed per second over the run, NaN before any time has passed. */
    public double screeningsPerSecond() {
        return seconds > 0 ? screenings / seconds : Double.NaN;
    }

    /** Tokens through the model per second over the run, NaN before any time has passed. */
    public double forwardTokensPerSecond() {
        return seconds > 0 ? forwardTokens / seconds : Double.NaN;
    }

    /** Reads a file {@link #write} wrote. */
    public static JobTelemetry read(Path file) throws IOException {
        try {
            return JSON.readValue(file.toFile(), JobTelemetry.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(file + " is not the job's metrics file: " + e.getOriginalMessage(), e);
        }
    }

    /** Writes it under a hidden name and renames it into place, so a reader never sees half a file. */
    public void write(Path file) throws IOException {
        Path temp = file.resolveSibling("." + file.getFileName() + ".tmp");
        JSON.writeValue(temp.toFile(), this);
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
