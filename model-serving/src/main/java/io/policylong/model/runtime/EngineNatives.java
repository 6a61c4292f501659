package io.policylong.model.runtime;

import ai.djl.engine.Engine;
import ai.djl.util.Utils;

/**
 * Unpacks the tensor engine's native libraries (PyTorch, its JNI bridge, the tokenizers) into the engine cache
 * ({@code ENGINE_CACHE_DIR}, else {@code DJL_CACHE_DIR}) by loading them once, offline, and says where they
 * are. Container images run it at build time, so that a TaskManager finds them in place and never unpacks
 * (or downloads) anything when it starts. Exits non-zero when a library cannot be loaded.
 */
public final class EngineNatives {
    private EngineNatives() {
    }

    /** Loads the engine and the tokenizers' native library and prints what was loaded from where. */
    public static void main(String[] args) {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        Engine engine = Engine.getEngine("PyTorch");
        ai.djl.huggingface.tokenizers.jni.LibUtils.checkStatus();
        System.out.printf("engine-natives: %s %s from %s (%d GPU(s) visible); engine cache %s%n",
                engine.getEngineName(), engine.getVersion(), ai.djl.pytorch.jni.LibUtils.getLibtorchPath(),
                engine.getGpuCount(), Utils.getEngineCacheDir());
    }
}
