package io.policylong.model.safetensors;

import java.util.Arrays;

/**
 * One tensor listed in a safetensors header.
 *
 * @param name tensor name as stored
 * @param dtype element type
 * @param shape dimensions, outermost first
 * @param begin first byte of the tensor, relative to the start of the data section
 * @param end one past the last byte, relative to the start of the data section
 */
public record TensorEntry(String name, SafetensorsDType dtype, long[] shape, long begin, long end) {

    public TensorEntry {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (product of the shape; 1 for a scalar). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Number of bytes the tensor occupies. */
    public long byteLength() {
        return end - begin;
    }

    /** Whether the shape equals the given dimensions. */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry other
                && name.equals(other.name)
                && dtype == other.dtype
                && Arrays.equals(shape, other.shape)
                && begin == other.begin
                && end == other.end;
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + "," + end + ")";
    }
}
