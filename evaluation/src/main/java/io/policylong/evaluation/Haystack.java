package io.policylong.evaluation;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Natural text to hide needles in: the sentences of a corpus's documents, in their order, and a pool of the corpus's
 * words for keys. Runs of consecutive sentences are drawn from random places, so haystacks read like the corpus.
 */
public final class Haystack {
    private static final Pattern SENTENCE = Pattern.compile("[^.!?]+[.!?]+[\"')\\]]*\\s*");
    private static final Pattern WORD = Pattern.compile("\\b[a-z]{5,9}\\b");

    private final List<String> sentences;
    private final List<String> words;

    private Haystack(List<String> sentences, List<String> words) {
        this.sentences = sentences;
        this.words = words;
    }

    /** The haystack of these texts (documents). */
    public static Haystack of(List<String> texts) {
        List<String> sentences = new ArrayList<>();
        TreeSet<String> words = new TreeSet<>();
        for (String text : texts) {
            Matcher m = SENTENCE.matcher(text.replaceAll("\\s+", " "));
            while (m.find()) {
                String s = m.group().strip();
                if (s.length() >= 20) {
                    sentences.add(s);
                }
            }
            Matcher w = WORD.matcher(text);
            while (w.find()) {
                words.add(w.group());
            }
        }
        if (sentences.size() < 50 || words.size() < 200) {
            throw new IllegalArgumentException("the haystack needs at least 50 sentences and 200 distinct words, got "
                    + sentences.size() + " and " + words.size());
        }
        return new Haystack(List.copyOf(sentences), List.copyOf(words));
    }

    /** A run of consecutive sentences from a random place (wrapping around at the end), as many as asked. */
    List<String> sentences(SplittableRandom random, int count) {
        List<String> run = new ArrayList<>(count);
        int start = random.nextInt(sentences.size());
        for (int i = 0; i < count; i++) {
            run.add(sentences.get((start + i) % sentences.size()));
        }
        return run;
    }

    /** A word of the corpus, five to nine letters long. */
    String word(SplittableRandom random) {
        return words.get(random.nextInt(words.size()));
    }

    /** Distinct words of the corpus. */
    List<String> distinctWords(SplittableRandom random, int count) {
        if (count > words.size()) {
            throw new IllegalArgumentException("the haystack has only " + words.size() + " distinct words");
        }
        TreeSet<String> chosen = new TreeSet<>();
        List<String> ordered = new ArrayList<>();
        while (ordered.size() < count) {
            String w = word(random);
            if (chosen.add(w)) {
                ordered.add(w);
            }
        }
        return ordered;
    }
}
