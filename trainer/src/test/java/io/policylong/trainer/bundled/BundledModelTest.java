package io.policylong.trainer.bundled;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.Device;
import io.policylong.corpus.BrownCorpus;
import io.policylong.corpus.HeldOutSplit;
import io.policylong.records.Document;
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

    /**
     * Required ratios of mean entropy (an uninformed model scores about 1 on each). Names get the lowest bar:
     * once its capital is known a name's letters follow English spelling almost as much as a common word's, so
     * the small models trained here put them only about 10 % above ordinary words.
     */
    static final double NAMES_OVER_WORDS = 1.05;
    static final double NUMBERS_OVER_WORDS = 1.25;
    static final double RARE_OVER_FREQUENT = 1.5;

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
        HeldOutSplit split = new HeldOutSplit(HeldOutSplit.DEFAULT_FRACTION);
        heldOut = new ArrayList<>();
        for (Document d : BrownCorpus.read(io.policylong.corpus.testing.Corpora.brown())) {
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

    /**
     * Inside words, once their first letter is known: a mid-sentence capitalised word (mostly names), the digits
     * of a number and a rare word leave more to guess than an ordinary lowercase word or a frequent word. (Before
     * a word starts, every kind of word is equally open; what differs is how much its first letter settles.)
     */
    @Test
    void entropyIsHighInsideNamesNumbersAndRareWords() {
        Map<String, Integer> frequency = new HashMap<>();
        Pattern word = Pattern.compile("[A-Za-z]+|[0-9]+");
        List<String> texts = new ArrayList<>();
        for (String doc : heldOut) {
            String text = ascii(doc);
            text = text.substring(0, Math.min(3000, text.length()));
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
            Matcher m = word.matcher(text);
            while (m.find()) {
                String w = m.group();
                if (m.start() < 2 || w.length() < 3) {
                    continue;
                }
                char first = w.charAt(0);
                String before = text.substring(0, m.start()).stripTrailing();
                boolean sentenceStart = before.isEmpty() || ".!?\":;".indexOf(before.charAt(before.length() - 1)) >= 0;
                int kind = Character.isDigit(first) ? number
                        : Character.isUpperCase(first) && !sentenceStart && w.substring(1).chars().allMatch(Character::isLowerCase) ? name
                        : w.chars().allMatch(Character::isLowerCase) ? ordinary : -1;
                if (kind >= 0) {
                    for (int i = m.start() + 1; i < m.end(); i++) {
                        sum[kind] += h[i];
                        count[kind]++;
                    }
                }
                int n = frequency.get(w.toLowerCase(Locale.ROOT));
                int rarity = Character.isDigit(first) ? -1 : n == 1 && w.length() >= 6 ? rare : n >= 20 ? frequent : -1;
                if (rarity >= 0) {
                    // After the first two letters, where a known word is mostly determined.
                    for (int i = m.start() + 2; i < m.end(); i++) {
                        sum[rarity] += h[i];
                        count[rarity]++;
                    }
                }
            }
        }
        double nameH = sum[name] / count[name];
        double numberH = sum[number] / count[number];
        double ordinaryH = sum[ordinary] / count[ordinary];
        double rareH = sum[rare] / count[rare];
        double frequentH = sum[frequent] / count[frequent];
        String report = String.format(Locale.ROOT, "mean entropy (nats) inside: mid-sentence capitalised words %.3f "
                + "(%d bytes), numbers %.3f (%d), lowercase words %.3f (%d); rare words %.3f (%d), frequent words "
                + "%.3f (%d)", nameH, count[name], numberH, count[number], ordinaryH, count[ordinary], rareH,
                count[rare], frequentH, count[frequent]);
        System.out.println(report);
        assertTrue(count[name] > 100 && count[number] > 20 && count[rare] > 100, report);
        assertTrue(nameH > NAMES_OVER_WORDS * ordinaryH, "names are less predictable than ordinary words: " + report);
        assertTrue(numberH > NUMBERS_OVER_WORDS * ordinaryH, "numbers are less predictable than words: " + report);
        assertTrue(rareH > RARE_OVER_FREQUENT * frequentH, "rare words are less predictable than frequent ones: "
                + report);
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
