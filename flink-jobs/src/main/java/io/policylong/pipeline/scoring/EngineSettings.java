package io.policylong.pipeline.scoring;

/**
 * JVM settings the tensor engine needs wherever the job runs. The engine must never reach the network (it
 * would otherwise look for models and native libraries online at start-up): offline mode is set here too, in
 * case a cluster's JVM options leave it out.
 */
final class EngineSettings {
    private EngineSettings() {
    }

    static void applyDefaults() {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }
}
