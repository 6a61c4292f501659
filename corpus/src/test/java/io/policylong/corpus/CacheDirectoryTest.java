package io.policylong.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The scripts and the Java commands find fetched data in the same place. */
class CacheDirectoryTest {
    @Test
    void homeFromTheEnvironmentWinsOverJavasUserHome() {
        assertEquals(Path.of("/home/app/.cache/policylong"),
                CacheDirectory.root(Map.of("HOME", "/home/app")::get, "/"));
        assertEquals(Path.of("/data/cache"),
                CacheDirectory.root(Map.of("HOME", "/home/app", "POLICYLONG_CACHE", "/data/cache")::get, "/"));
        assertEquals(Path.of("/root/.cache/policylong"), CacheDirectory.root(Map.<String, String>of()::get, "/root"));
    }

    @Test
    void theScriptsUseTheSameRule() throws Exception {
        Path script = Path.of(System.getProperty("policylong.root", "..")).resolve("scripts/cache-dir.sh");
        for (Map<String, String> env : java.util.List.of(Map.of("HOME", "/home/app"),
                Map.of("HOME", "/home/app", "POLICYLONG_CACHE", "/data/cache"))) {
            ProcessBuilder pb = new ProcessBuilder("bash", script.toString());
            pb.environment().remove("POLICYLONG_CACHE");
            pb.environment().putAll(env);
            Process p = pb.start();
            String printed = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor(30, TimeUnit.SECONDS);
            assertEquals(CacheDirectory.root(env::get, "/elsewhere").toString(), printed, env.toString());
        }
    }
}
