package io.policylong.model.config;

import java.util.Optional;

/** The decoder families this runtime implements, named as in {@code config.json}'s {@code architectures}. */
public enum Architecture {
    /** Qwen2/Qwen2.5: biases on the q, k and v projections only. */
    QWEN2("Qwen2ForCausalLM", "qwen2"),
    /** Llama 2/3: optional biases on all attention projections ({@code attention_bias}) and the MLP. */
    LLAMA("LlamaForCausalLM", "llama");

    private final String className;
    private final String modelType;

    Architecture(String className, String modelType) {
        this.className = className;
        this.modelType = modelType;
    }

    /** The Hugging Face class name, e.g. {@code Qwen2ForCausalLM}. */
    public String className() {
        return className;
    }

    /** The {@code model_type} value. */
    public String modelType() {
        return modelType;
    }

    /** The architecture with this class name. */
    public static Optional<Architecture> fromClassName(String name) {
        for (Architecture a : values()) {
            if (a.className.equals(name)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }
}
