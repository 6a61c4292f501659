package io.policylong.model.runtime;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.util.Locale;

/**
 * The floating-point type a decoder's forward pass runs in. Weights are held in it and the matrix products run in
 * it; RMSNorm, the attention softmax and everything after the LM head (log-softmax, entropy) stay in float32, as
 * mixed-precision inference usually does. {@code float16} is for GPUs (their tensor cores); on the CPU, float32 is
 * both faster and exact. bfloat16 is not offered: the engine (DJL's PyTorch binding) aborts the whole process when
 * it creates or converts to a bfloat16 tensor.
 */
public enum ComputePrecision {
    FLOAT32(DataType.FLOAT32), FLOAT16(DataType.FLOAT16);

    private final DataType type;

    ComputePrecision(DataType type) {
        this.type = type;
    }

    /** The engine's data type. */
    public DataType type() {
        return type;
    }

    /**
     * Parses {@code float32} (or {@code fp32}), {@code float16} ({@code fp16}) or {@code auto}: float16 on a GPU,
     * float32 on the CPU.
     */
    public static ComputePrecision parse(String name, Device device) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "auto":
                return device.isGpu() ? FLOAT16 : FLOAT32;
            case "float32":
            case "fp32":
                return FLOAT32;
            case "float16":
            case "fp16":
                return FLOAT16;
            case "bfloat16":
            case "bf16":
                throw new IllegalArgumentException("bfloat16 is not available: the engine (DJL's PyTorch binding) "
                        + "aborts the process on bfloat16 tensors; use float16 (or float32)");
            default:
                throw new IllegalArgumentException("compute dtype '" + name + "' is not one of auto, float32, "
                        + "float16");
        }
    }

    /** The name used in options and messages. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
