package io.policylong.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.corpus.BrownCorpus;
import io.policylong.corpus.testing.Corpora;
import io.policylong.records.Document;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Probes from the Brown corpus: lengths as asked, answers where they must be and nowhere else, reproducible. */
class ProbeGeneratorTest {
    /** Byte-level tokens, as the bundled model's tokenizer counts them. */
    private static final ToIntFunction<String> BYTES = s -> s.getBytes(StandardCharsets.UTF_8).length;
    private static Haystack haystack;

    @BeforeAll
    static void corpus() throws Exception {
        List<Document> documents = BrownCorpus.read(Corpora.brown());
        haystack = Haystack.of(documents.subList(0, 100).stream().map(Document::text).toList());
    }

    private static int count(String text, String part) {
        return text.split(Pattern.quote(part), -1).length - 1;
    }

    @ParameterizedTest
    @EnumSource(ProbeTask.class)
    void promptsFillTheirLengthAndHoldTheAnswerWhereItMustBe(ProbeTask task) {
        ProbeGenerator generator = new ProbeGenerator(haystack, BYTES, 7);
        for (int length : new int[] {512, 2048}) {
            for (Probe p : generator.generate(task, length, 5)) {
                int tokens = BYTES.applyAsInt(p.prompt());
                assertTrue(tokens <= length && tokens >= 0.9 * length, task + " " + length + ": " + tokens + " tokens");
                assertTrue(BYTES.applyAsInt(p.controlPrompt()) <= length);
                switch (task) {
                    case VARIABLE_TRACKING -> {
                        for (String name : p.answers()) {
                            assertEquals(1, count(p.context(), "VAR " + name + " ="), name + " assigned once");
                            assertEquals(0, count(p.control(), name), "the control has no chain");
                        }
                        Matcher value = Pattern.compile("VAR [A-Z]{5} = (\\d{5})\\.").matcher(p.context());
                        int chains = 0;
                        int asked = 0;
                        while (value.find()) {
                            chains++;
                            asked += p.question().contains(value.group(1)) ? 1 : 0;
                        }
                        assertEquals(2, chains, "the chain and a distractor chain");
                        assertEquals(1, asked, "one of them is asked for");
                    }
                    case FREQUENT_WORDS -> {
                        Map<String, Integer> counts = words(p.context());
                        List<String> top = counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue())
                                .limit(3).map(Map.Entry::getKey).toList();
                        assertEquals(p.answers(), top, "the answers are the three most frequent words, in order");
                        Map<String, Integer> control = words(p.control());
                        int most = control.values().stream().max(Integer::compare).orElseThrow();
                        int least = control.values().stream().min(Integer::compare).orElseThrow();
                        assertTrue(most - least <= 1, "the control's words are equally frequent");
                    }
                    default -> {
                        for (String answer : p.answers()) {
                            assertEquals(1, count(p.context(), answer), task + ": " + answer + " exactly once");
                            assertEquals(0, count(p.control(), answer), "the control lacks " + answer);
                        }
                    }
                }
            }
        }
    }

    private static Map<String, Integer> words(String context) {
        Map<String, Integer> counts = new HashMap<>();
        String body = context.substring(context.indexOf('\n') + 1);
        for (String w : body.strip().split(" ")) {
            counts.merge(w, 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void distractorNeedlesNeverHoldTheAnswer() {
        ProbeGenerator generator = new ProbeGenerator(haystack, BYTES, 3);
        Pattern needle = Pattern.compile("special magic numbers for (\\w+) is: (\\d{7})\\.");
        for (ProbeTask task : List.of(ProbeTask.NIAH_MULTIKEY, ProbeTask.NIAH_MULTIQUERY)) {
            for (Probe p : generator.generate(task, 1024, 10)) {
                Matcher m = needle.matcher(p.context());
                int needles = 0;
                int answers = 0;
                while (m.find()) {
                    needles++;
                    boolean asked = p.question().contains(" " + m.group(1) + " ");
                    assertEquals(asked, p.answers().contains(m.group(2)), m.group() + " / " + p.question());
                    answers += asked ? 1 : 0;
                }
                assertEquals(4, needles);
                assertEquals(p.answers().size(), answers);
            }
        }
        for (Probe p : generator.generate(ProbeTask.KV_RETRIEVAL, 1024, 10)) {
            Matcher pair = Pattern.compile("\"([0-9a-f]{8})\": \"([0-9a-f]{8})\"").matcher(p.context());
            int matching = 0;
            while (pair.find()) {
                if (pair.group(2).equals(p.answers().get(0))) {
                    matching++;
                    assertTrue(p.question().contains(pair.group(1)), "the answer is the asked key's value");
                }
            }
            assertEquals(1, matching, "no other key has the answer as its value");
        }
    }

    @Test
    void theSeedFixesEveryProbeWhateverElseIsGenerated() {
        ProbeGenerator a = new ProbeGenerator(haystack, BYTES, 11);
        ProbeGenerator b = new ProbeGenerator(haystack, BYTES, 11);
        for (ProbeTask task : ProbeTask.values()) {
            List<Probe> five = a.generate(task, 768, 5);
            assertEquals(five, b.generate(task, 768, 5));
            assertEquals(five.get(3), b.probe(task, 768, 3), "probe 3 alone is probe 3 of five");
            assertNotEquals(five.get(0), new ProbeGenerator(haystack, BYTES, 12).probe(task, 768, 0));
        }
    }
}
