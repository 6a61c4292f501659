package io.policylong.model.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import io.policylong.model.checkpoint.InvalidCheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The tokenizer of a checkpoint ({@code tokenizer.json}) through the Hugging Face tokenizers library.
 * Truncation and padding are always off: the library otherwise cuts every text to 512 tokens without an
 * error. Character spans are returned as Java string indices (the library reports Unicode code points).
 * Instances are safe for concurrent use.
 */
public final class CheckpointTokenizer implements AutoCloseable {
    public static final String FILE_NAME = "tokenizer.json";

    private final Path path;
    private final HuggingFaceTokenizer tokenizer;
    private final boolean addSpecialTokens;

    private CheckpointTokenizer(Path path, HuggingFaceTokenizer tokenizer, boolean addSpecialTokens) {
        this.path = path;
        this.tokenizer = tokenizer;
        this.addSpecialTokens = addSpecialTokens;
    }

    /**
     * Loads {@code tokenizer.json} (the file itself or the directory holding it).
     *
     * @param addSpecialTokens whether encoding adds the tokens the tokenizer's post-processor defines (a BOS
     *     token for Llama tokenizers; nothing for Qwen's)
     */
    public static CheckpointTokenizer load(Path fileOrDirectory, boolean addSpecialTokens)
            throws InvalidCheckpointException {
        Path file = Files.isDirectory(fileOrDirectory) ? fileOrDirectory.resolve(FILE_NAME) : fileOrDirectory;
        if (!Files.isRegularFile(file)) {
            throw new InvalidCheckpointException(file + ": tokenizer file not found");
        }
        try {
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optTruncation(false)
                    .optPadding(false)
                    .optAddSpecialTokens(addSpecialTokens)
                    .build();
            return new CheckpointTokenizer(file, tokenizer, addSpecialTokens);
        } catch (Exception e) {
            throw new InvalidCheckpointException(file + ": not a loadable tokenizer: " + e.getMessage(), e);
        }
    }

    /** Loads with special tokens added as the tokenizer defines. */
    public static CheckpointTokenizer load(Path fileOrDirectory) throws InvalidCheckpointException {
        return load(fileOrDirectory, true);
    }

    /** The tokenizer file. */
    public Path path() {
        return path;
    }

    /** Whether encoding adds special tokens. */
    public boolean addsSpecialTokens() {
        return addSpecialTokens;
    }

    /** Token ids and spans of a text, never truncated, special tokens as configured at load. */
    public TokenizedText encode(String text) {
        return encode(text, addSpecialTokens);
    }

    /** Token ids and spans of a text, never truncated, with or without the tokenizer's special tokens. */
    public TokenizedText encode(String text, boolean withSpecialTokens) {
        Encoding encoding = tokenizer.encode(text, withSpecialTokens, false);
        long[] ids = encoding.getIds();
        CharSpan[] spans = encoding.getCharTokenSpans();
        int[] starts = new int[ids.length];
        int[] ends = new int[ids.length];
        Arrays.fill(starts, -1);
        Arrays.fill(ends, -1);
        CodePointIndex index = new CodePointIndex(text);
        for (int i = 0; i < ids.length && i < spans.length; i++) {
            CharSpan span = spans[i];
            if (span != null) {
                starts[i] = index.toCharIndex(span.getStart());
                ends[i] = index.toCharIndex(span.getEnd());
            }
        }
        return new TokenizedText(ids, starts, ends);
    }

    /** Just the ids of a text. */
    public long[] encodeIds(String text) {
        return tokenizer.encode(text).getIds();
    }

    /** Just the ids of a text, with or without special tokens. */
    public long[] encodeIds(String text, boolean withSpecialTokens) {
        return tokenizer.encode(text, withSpecialTokens, false).getIds();
    }

    /** The text of a token id sequence (special tokens kept). */
    public String decode(long[] ids) {
        return tokenizer.decode(ids, false);
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /** Maps code point offsets to UTF-16 indices; identity for texts without supplementary characters. */
    private static final class CodePointIndex {
        private final String text;
        private final int[] charIndexOfCodePoint;

        CodePointIndex(String text) {
            this.text = text;
            int codePoints = text.codePointCount(0, text.length());
            if (codePoints == text.length()) {
                charIndexOfCodePoint = null;
            } else {
                charIndexOfCodePoint = new int[codePoints + 1];
                int charIndex = 0;
                for (int cp = 0; cp < codePoints; cp++) {
                    charIndexOfCodePoint[cp] = charIndex;
                    charIndex += Character.charCount(text.codePointAt(charIndex));
                }
                charIndexOfCodePoint[codePoints] = text.length();
            }
        }

        int toCharIndex(int codePoint) {
            if (charIndexOfCodePoint == null) {
                return Math.min(codePoint, text.length());
            }
            return charIndexOfCodePoint[Math.min(codePoint, charIndexOfCodePoint.length - 1)];
        }
    }
}
