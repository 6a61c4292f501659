package io.policylong.model.safetensors;

import java.util.Optional;

/** The element types a safetensors header may name, with their size in bytes. */
public enum SafetensorsDType {
    BOOL(1),
    U8(1),
    I8(1),
    F8_E4M3(1),
    F8_E5M2(1),
    I16(2),
    U16(2),
    F16(2),
    BF16(2),
    I32(4),
    U32(4),
    F32(4),
    I64(8),
    U64(8),
    F64(8);

    private final int byteSize;

    SafetensorsDType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether tensors of this type can be read as float32 weights (F32, F16, BF16). */
    public boolean isConvertibleToFloat32() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The type for a header's {@code dtype} string (exact, upper case), if it is one this format defines. */
    public static Optional<SafetensorsDType> fromHeaderName(String name) {
        if (name == null) {
            return Optional.empty();
        }
        for (SafetensorsDType t : values()) {
            if (t.name().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
