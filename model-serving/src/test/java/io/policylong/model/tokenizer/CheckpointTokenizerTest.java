package io.policylong.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.model.checkpoint.InvalidCheckpointException;
import io.policylong.model.testing.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tokenizer path on Qwen's real tokenizer.json and on the project's byte-level tokenizer. */
class CheckpointTokenizerTest {
    private static CheckpointTokenizer qwen;

    @BeforeAll
    static void load() throws Exception {
        qwen = CheckpointTokenizer.load(TestData.qwenTokenizer());
    }

    @AfterAll
    static void close() {
        qwen.close();
    }

    @Test
    void knownQwenIds() {
        assertArrayEquals(new long[] {9707, 1879}, qwen.encodeIds("Hello world"));
        TokenizedText t = qwen.encode("Hello world");
        assertArrayEquals(new int[] {0, 5}, t.starts());
        assertArrayEquals(new int[] {5, 11}, t.ends());
    }

    @Test
    void roundTripsTextIncludingNonAscii() {
        for (String text : new String[] {
            "The quick brown fox jumps over the lazy dog.",
            "naïve café — 你好, мир! 😀 tabs\tand\nnewlines",
            "  leading and trailing spaces  ",
            "<|endoftext|> special token text"}) {
            assertEquals(text, qwen.decode(qwen.encodeIds(text)), "round trip of: " + text);
        }
    }

    @Test
    void spansAreJavaStringIndicesEvenAfterSurrogatePairs() {
        String text = "a 😀 b é end";
        TokenizedText t = qwen.encode(text);
        StringBuilder rebuilt = new StringBuilder();
        for (int i = 0; i < t.size(); i++) {
            rebuilt.append(text, t.starts()[i], t.ends()[i]);
        }
        assertEquals(text, rebuilt.toString());
        assertEquals(text.length(), t.ends()[t.size() - 1]);
        int end = text.indexOf(" end");
        boolean found = false;
        for (int i = 0; i < t.size(); i++) {
            found |= t.starts()[i] == end && text.substring(t.starts()[i], t.ends()[i]).equals(" end");
        }
        assertTrue(found, "the last word's span lies after the emoji's two UTF-16 units");
    }

    @Test
    void neverTruncates() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            text.append("word").append(i).append(' ');
        }
        long[] ids = qwen.encodeIds(text.toString());
        assertTrue(ids.length > 5000, "got " + ids.length + " tokens");
        assertEquals(text.toString(), qwen.decode(ids));
    }

    @Test
    void byteLevelTokenizerMapsBytesToIds(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokenizer.json");
        ByteLevelTokenizerJson.write(file);
        try (CheckpointTokenizer bytes = CheckpointTokenizer.load(dir)) {
            String text = "Hi é 😀\n";
            byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
            long[] ids = bytes.encodeIds(text);
            assertEquals(utf8.length, ids.length);
            for (int i = 0; i < utf8.length; i++) {
                assertEquals(utf8[i] & 0xFF, ids[i]);
            }
            assertEquals(text, bytes.decode(ids));
            assertArrayEquals(new long[] {65, 256, 66}, bytes.encodeIds("A<|endoftext|>B"));
        }
    }

    @Test
    void missingOrBrokenTokenizerIsReported(@TempDir Path dir) throws Exception {
        InvalidCheckpointException missing = assertThrows(InvalidCheckpointException.class,
                () -> CheckpointTokenizer.load(dir));
        assertTrue(missing.getMessage().contains("tokenizer file not found"), missing.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": 3}");
        InvalidCheckpointException broken = assertThrows(InvalidCheckpointException.class,
                () -> CheckpointTokenizer.load(dir));
        assertTrue(broken.getMessage().contains("not a loadable tokenizer"), broken.getMessage());
    }
}
