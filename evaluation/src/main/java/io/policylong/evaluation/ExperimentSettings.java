package io.policylong.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.policylong.report.ReportFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What an experiment's results depend on, recorded in its directory ({@code settings.json}) so that results of
 * different settings never mix. Seeds are not among them: each seed is an independent replicate of the same
 * settings, so an experiment can be extended with more seeds; the record keeps every seed a run of the experiment
 * was given (finished or not).
 *
 * @param settings the settings by name (JSON values), without the seeds
 * @param seeds every seed given to a run in the directory
 */
public record ExperimentSettings(ObjectNode settings, TreeSet<Long> seeds) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Written by earlier versions: a digest of the settings with the seeds; the settings themselves are compared. */
    private static final String FINGERPRINT = "fingerprint";
    private static final String SEEDS = "seeds";

    /** Settings by name (each turned into JSON) and the seeds of this run. */
    public static ExperimentSettings of(Map<String, ?> settings, List<Long> seeds) {
        ObjectNode node = JSON.valueToTree(settings);
        node.remove(SEEDS);
        return new ExperimentSettings(node, new TreeSet<>(seeds));
    }

    /** Reads what {@link #write} wrote. */
    public static ExperimentSettings read(Path file) throws IOException {
        JsonNode recorded = JSON.readTree(file.toFile());
        if (!(recorded instanceof ObjectNode node)) {
            throw new IOException(file + ": not a JSON object of settings");
        }
        ObjectNode settings = node.deepCopy();
        settings.remove(FINGERPRINT);
        TreeSet<Long> seeds = new TreeSet<>();
        JsonNode s = settings.remove(SEEDS);
        if (s != null) {
            s.forEach(seed -> seeds.add(seed.asLong()));
        }
        return new ExperimentSettings(settings, seeds);
    }

    /** The names of the settings that differ from {@code other}'s (any seeds), in order; empty when they agree. */
    public List<String> differencesFrom(ExperimentSettings other) {
        TreeSet<String> names = new TreeSet<>();
        settings.fieldNames().forEachRemaining(names::add);
        other.settings.fieldNames().forEachRemaining(names::add);
        List<String> differ = new ArrayList<>();
        for (String name : names) {
            if (!String.valueOf(settings.get(name)).equals(String.valueOf(other.settings.get(name)))) {
                differ.add(name);
            }
        }
        return differ;
    }

    /** These settings with the seeds of both. */
    public ExperimentSettings withSeedsOf(ExperimentSettings other) {
        TreeSet<Long> all = new TreeSet<>(seeds);
        all.addAll(other.seeds);
        return new ExperimentSettings(settings, all);
    }

    /** Writes the settings and the seeds as one JSON object. */
    public void write(Path file) throws IOException {
        ObjectNode node = settings.deepCopy();
        ArrayNode list = node.putArray(SEEDS);
        for (Iterator<Long> i = seeds.iterator(); i.hasNext();) {
            list.add(i.next());
        }
        ReportFiles.writeAtomically(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
    }
}
