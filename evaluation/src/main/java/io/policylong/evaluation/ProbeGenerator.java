package io.policylong.evaluation;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.ToIntFunction;

/**
 * Builds the probes of each task at a length in tokens of the checkpoint's tokenizer, reproducibly: the seed, the
 * task, the length and the probe's index fix every probe, whatever else is generated. Needles go into haystack
 * sentences at random depths; the prompt (context and question) is at most the requested length and fills it to
 * within one sentence. Values are drawn so that each occurs in the context exactly where it was put.
 */
public final class ProbeGenerator {
    private static final int NEEDLES = 4;
    private static final int CHAIN = 4;

    private final Haystack haystack;
    private final ToIntFunction<String> tokens;
    private final long seed;

    /**
     * @param tokens the number of tokens of a text under the checkpoint's tokenizer
     */
    public ProbeGenerator(Haystack haystack, ToIntFunction<String> tokens, long seed) {
        this.haystack = haystack;
        this.tokens = tokens;
        this.seed = seed;
    }

    /** Probes {@code 0..count-1} of a task at a length. */
    public List<Probe> generate(ProbeTask task, int length, int count) {
        List<Probe> probes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            probes.add(probe(task, length, i));
        }
        return probes;
    }

    /** One probe. */
    public Probe probe(ProbeTask task, int length, int index) {
        if (length < 128) {
            throw new IllegalArgumentException("probes need at least 128 tokens, not " + length);
        }
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + task.ordinal() * 65_537L + length * 31L
                + index);
        return switch (task) {
            case NIAH_SINGLE -> needles(task, length, index, random, 1, 1, false);
            case NIAH_MULTIKEY -> needles(task, length, index, random, NEEDLES, 1, false);
            case NIAH_MULTIVALUE -> needles(task, length, index, random, NEEDLES, NEEDLES, true);
            case NIAH_MULTIQUERY -> needles(task, length, index, random, NEEDLES, 2, false);
            case VARIABLE_TRACKING -> variables(length, index, random);
            case FREQUENT_WORDS -> frequentWords(length, index, random);
            case KV_RETRIEVAL -> keyValues(length, index, random);
        };
    }

    /**
     * {@code needles} sentences "One of the special magic numbers for KEY is: VALUE."; {@code asked} of them are
     * asked for. With {@code oneKey}, every needle has the same key (all its values are asked for, in the order they
     * appear); otherwise every needle has its own key.
     */
    private Probe needles(ProbeTask task, int length, int index, SplittableRandom random, int needles, int asked,
            boolean oneKey) {
        List<String> keys = haystack.distinctWords(random, needles);
        if (oneKey) {
            keys = Collections.nCopies(needles, keys.get(0));
        }
        List<String> values = distinctNumbers(random, needles, 7);
        List<String> statements = new ArrayList<>();
        for (int i = 0; i < needles; i++) {
            statements.add("One of the special magic numbers for " + keys.get(i) + " is: " + values.get(i) + ".");
        }
        String question;
        List<String> answers;
        if (oneKey) {
            question = "\nWhat are all the special magic numbers for " + keys.get(0) + " mentioned in the provided "
                    + "text? The special magic numbers for " + keys.get(0) + " mentioned in the provided text are";
            answers = values; // in the order they are inserted, which is the order they appear
        } else if (asked == 1) {
            question = "\nWhat is the special magic number for " + keys.get(0) + " mentioned in the provided text? "
                    + "The special magic number for " + keys.get(0) + " mentioned in the provided text is";
            answers = List.of(values.get(0));
        } else {
            question = "\nWhat are the special magic numbers for " + keys.get(0) + " and " + keys.get(1)
                    + " mentioned in the provided text? The special magic numbers for " + keys.get(0) + " and "
                    + keys.get(1) + " mentioned in the provided text are";
            answers = List.of(values.get(0), values.get(1));
        }
        // With several keys the needles go in at random depths in any order; one key's values keep their order.
        List<String> order = new ArrayList<>(statements);
        if (!oneKey) {
            shuffle(order, random);
        }
        return inHaystack(task, length, index, random, order, question, answers);
    }

    /** A chain "VAR A = n. VAR B = VAR A. ..." and a distractor chain with another value; asked: the chain's names. */
    private Probe variables(int length, int index, SplittableRandom random) {
        List<String> names = distinctNames(random, 2 * CHAIN);
        List<String> numbers = distinctNumbers(random, 2, 5);
        List<String> chain = chain(names.subList(0, CHAIN), numbers.get(0));
        List<String> distractor = chain(names.subList(CHAIN, 2 * CHAIN), numbers.get(1));
        // Merge the two chains at random, each in its own order.
        List<String> merged = new ArrayList<>();
        int a = 0;
        int b = 0;
        while (a < chain.size() || b < distractor.size()) {
            boolean fromChain = b >= distractor.size() || a < chain.size() && random.nextBoolean();
            merged.add(fromChain ? chain.get(a++) : distractor.get(b++));
        }
        String question = "\nFind all variables that are assigned the value " + numbers.get(0) + " in the text "
                + "above. Answer: According to the chain of variable assignments in the text above, " + CHAIN
                + " variables are assigned the value " + numbers.get(0) + ", they are:";
        return inHaystack(ProbeTask.VARIABLE_TRACKING, length, index, random, merged, question,
                names.subList(0, CHAIN));
    }

    private static List<String> chain(List<String> names, String value) {
        List<String> statements = new ArrayList<>();
        statements.add("VAR " + names.get(0) + " = " + value + ".");
        for (int i = 1; i < names.size(); i++) {
            statements.add("VAR " + names.get(i) + " = VAR " + names.get(i - 1) + ".");
        }
        return statements;
    }

    /**
     * A text of corpus words in which three words are clearly the most frequent (10, 8 and 6 % of the words against
     * under 1 % for each of the others); the control has the same words, all equally frequent.
     */
    private Probe frequentWords(int length, int index, SplittableRandom random) {
        List<String> vocabulary = haystack.distinctWords(random, 100);
        String question = "\nQuestion: What are the three most frequently appeared words in the above text? Answer: "
                + "The three most frequently appeared words in the above text are:";
        String intro = "Read the following text and track how often each word appears.\n";
        // The most words whose text fits: the token count grows with the number of words.
        // The most words whose text, and the control's, fits: the token count grows with the number of words.
        java.util.function.IntPredicate fits = n -> Math.max(
                tokens.applyAsInt(intro + String.join(" ", skewedWords(vocabulary, n)) + "\n" + question),
                tokens.applyAsInt(intro + String.join(" ", uniformWords(vocabulary, n)) + "\n" + question)) <= length;
        int low = 20;
        if (!fits.test(low)) {
            throw new IllegalArgumentException("frequent_words needs more than " + length + " tokens");
        }
        int high = Math.max(low, length);
        while (low < high) {
            int mid = (low + high + 1) / 2;
            if (fits.test(mid)) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        List<String> skewed = skewedWords(vocabulary, low);
        List<String> uniform = uniformWords(vocabulary, low);
        shuffle(skewed, random);
        shuffle(uniform, random);
        String context = intro + String.join(" ", skewed) + "\n";
        String control = intro + String.join(" ", uniform) + "\n";
        return new Probe(ProbeTask.FREQUENT_WORDS, length, index, context, control, question,
                vocabulary.subList(0, 3));
    }

    /** {@code count} words, each of the vocabulary as often as any other (give or take one). */
    private static List<String> uniformWords(List<String> vocabulary, int count) {
        List<String> words = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            words.add(vocabulary.get(i % vocabulary.size()));
        }
        return words;
    }

    /** {@code count} words: the first three of the vocabulary make 10, 8 and 6 % of them, the others share the rest. */
    private static List<String> skewedWords(List<String> vocabulary, int count) {
        List<String> words = new ArrayList<>(count);
        double[] shares = {0.10, 0.08, 0.06};
        for (int k = 0; k < shares.length; k++) {
            words.addAll(Collections.nCopies((int) Math.round(count * shares[k]), vocabulary.get(k)));
        }
        int rest = count - words.size();
        for (int i = 0; i < rest; i++) {
            words.add(vocabulary.get(3 + i % (vocabulary.size() - 3)));
        }
        return words;
    }

    /** A JSON-like table of random hexadecimal keys and values; asked: one key's value. */
    private Probe keyValues(int length, int index, SplittableRandom random) {
        String question = "\nKey: \"%s\"\nThe value associated with the specified key is:";
        Map<String, String> table = new LinkedHashMap<>();
        int pairTokens = tokens.applyAsInt("\"0123abcd\": \"4567ef01\", ");
        int pairs = Math.max(4, (length - tokens.applyAsInt("JSON data:\n{}\n" + question.formatted("0123abcd")) - 8)
                / pairTokens);
        Set<String> used = new HashSet<>();
        while (table.size() < pairs) {
            String key = hex(random);
            String value = hex(random);
            if (used.add(key) && used.add(value)) {
                table.put(key, value);
            }
        }
        List<String> keys = new ArrayList<>(table.keySet());
        String target = keys.get(random.nextInt(keys.size()));
        String asked = question.formatted(target);
        // Token counts of the whole can exceed the sum of the parts': drop pairs from the end, never the asked one.
        while (tokens.applyAsInt(json(table, null) + asked) > length && table.size() > 2) {
            for (int i = keys.size() - 1; i >= 0; i--) {
                if (!keys.get(i).equals(target)) {
                    table.remove(keys.remove(i));
                    break;
                }
            }
        }
        return new Probe(ProbeTask.KV_RETRIEVAL, length, index, json(table, null), json(table, target), asked,
                List.of(table.get(target)));
    }

    private static String json(Map<String, String> table, String without) {
        List<String> pairs = new ArrayList<>();
        table.forEach((k, v) -> {
            if (!k.equals(without)) {
                pairs.add("\"" + k + "\": \"" + v + "\"");
            }
        });
        return "JSON data:\n{" + String.join(", ", pairs) + "}\n";
    }

    private static String hex(SplittableRandom random) {
        return String.format("%08x", random.nextInt() & 0xffffffffL);
    }

    /**
     * The statements at random depths in haystack sentences filling the length; the control is the same haystack
     * without them.
     */
    private Probe inHaystack(ProbeTask task, int length, int index, SplittableRandom random, List<String> statements,
            String question, List<String> answers) {
        int fixed = tokens.applyAsInt(String.join(" ", statements) + question) + 8;
        int budget = length - fixed;
        if (budget < 16) {
            throw new IllegalArgumentException(task.label() + " needs more than " + length + " tokens");
        }
        List<String> hay = new ArrayList<>();
        int used = 0;
        for (String s : haystack.sentences(random, 100_000)) {
            int n = tokens.applyAsInt(" " + s);
            if (used + n > budget) {
                // The rest of the budget gets the words of the next sentence that fit.
                String[] words = s.split(" ");
                StringBuilder part = new StringBuilder();
                for (String w : words) {
                    if (used + tokens.applyAsInt(" " + part + " " + w) > budget) {
                        break;
                    }
                    part.append(part.length() == 0 ? "" : " ").append(w);
                }
                if (part.length() > 0) {
                    hay.add(part.toString());
                }
                break;
            }
            hay.add(s);
            used += n;
        }
        // Depths: sorted random sentence boundaries, so statements keep their order.
        List<Integer> depths = new ArrayList<>();
        for (int i = 0; i < statements.size(); i++) {
            depths.add(random.nextInt(hay.size() + 1));
        }
        Collections.sort(depths);
        while (true) {
            List<String> withNeedles = new ArrayList<>();
            int next = 0;
            for (int i = 0; i <= hay.size(); i++) {
                while (next < statements.size() && depths.get(next) == i) {
                    withNeedles.add(statements.get(next++));
                }
                if (i < hay.size()) {
                    withNeedles.add(hay.get(i));
                }
            }
            String context = String.join(" ", withNeedles) + "\n";
            if (tokens.applyAsInt(context + question) <= length || hay.isEmpty()) {
                return new Probe(task, length, index, context, String.join(" ", hay) + "\n", question, answers);
            }
            hay.remove(hay.size() - 1); // token counts of joined text can exceed the sum of the parts'
            for (int i = 0; i < depths.size(); i++) {
                depths.set(i, Math.min(depths.get(i), hay.size()));
            }
        }
    }

    private List<String> distinctNumbers(SplittableRandom random, int count, int digits) {
        Set<String> seen = new HashSet<>();
        List<String> numbers = new ArrayList<>();
        long low = (long) Math.pow(10, digits - 1);
        while (numbers.size() < count) {
            String n = String.valueOf(low + random.nextLong(9 * low));
            if (seen.add(n)) {
                numbers.add(n);
            }
        }
        return numbers;
    }

    private static List<String> distinctNames(SplittableRandom random, int count) {
        Set<String> seen = new HashSet<>();
        List<String> names = new ArrayList<>();
        while (names.size() < count) {
            StringBuilder name = new StringBuilder();
            for (int i = 0; i < 5; i++) {
                name.append((char) ('A' + random.nextInt(26)));
            }
            if (seen.add(name.toString())) {
                names.add(name.toString());
            }
        }
        return names;
    }

    private static <T> void shuffle(List<T> list, SplittableRandom random) {
        for (int i = list.size() - 1; i > 0; i--) {
            Collections.swap(list, i, random.nextInt(i + 1));
        }
    }
}
