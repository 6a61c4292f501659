package io.policylong.pipeline.screening;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Recognises chunks that are (nearly) the document itself, by word shingles: a chunk is a near-duplicate
 * when more than {@code threshold} of its {@code shingleWords}-word shingles also occur in the document.
 * Such a chunk would "help" trivially (the model copies the answer) and teach nothing about long context.
 */
public final class NearDuplicates {
    private final int shingleWords;
    private final double threshold;

    public NearDuplicates(int shingleWords, double threshold) {
        if (shingleWords < 1 || threshold < 0 || threshold > 1) {
            throw new IllegalArgumentException("shingle words >= 1 and threshold in [0, 1] are required");
        }
        this.shingleWords = shingleWords;
        this.threshold = threshold;
    }

    /** The shingles of a text (lower-cased words joined by spaces). */
    public Set<String> shingles(String text) {
        String[] words = text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+");
        Set<String> shingles = new HashSet<>();
        StringBuilder b = new StringBuilder();
        int start = words.length > 0 && words[0].isEmpty() ? 1 : 0;
        for (int i = start; i + shingleWords <= words.length; i++) {
            b.setLength(0);
            for (int j = 0; j < shingleWords; j++) {
                if (j > 0) {
                    b.append(' ');
                }
                b.append(words[i + j]);
            }
            shingles.add(b.toString());
        }
        return shingles;
    }

    /** Whether the chunk is a near-duplicate of the document whose shingles are given. */
    public boolean isNearDuplicate(String chunk, Set<String> documentShingles) {
        Set<String> own = shingles(chunk);
        if (own.isEmpty()) {
            return false;
        }
        int shared = 0;
        for (String s : own) {
            if (documentShingles.contains(s)) {
                shared++;
            }
        }
        return shared > threshold * own.size();
    }
}
