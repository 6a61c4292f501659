package io.policylong.model.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.policylong.model.config.RotaryFrequencies;

/**
 * Cos and sin tables for rotary embeddings in the rotate-half layout ({@code [cos(f), cos(f)]} along the head
 * dimension), computed in double precision and stored as float32, scaled by the attention scaling.
 */
final class RotaryTables {
    private RotaryTables() {
    }

    /** Returns {@code [cos, sin]}, each {@code [length, headDim]}, for positions {@code first..first+length-1}. */
    static NDList create(NDManager manager, RotaryFrequencies frequencies, int first, int length) {
        double[] inv = frequencies.inverseFrequencies();
        double scaling = frequencies.attentionScaling();
        int half = inv.length;
        int dim = 2 * half;
        float[] cos = new float[length * dim];
        float[] sin = new float[length * dim];
        for (int pos = 0; pos < length; pos++) {
            int row = pos * dim;
            for (int i = 0; i < half; i++) {
                double angle = (first + pos) * inv[i];
                float c = (float) (Math.cos(angle) * scaling);
                float s = (float) (Math.sin(angle) * scaling);
                cos[row + i] = c;
                cos[row + half + i] = c;
                sin[row + i] = s;
                sin[row + half + i] = s;
            }
        }
        Shape shape = new Shape(length, dim);
        NDArray cosArray = manager.create(cos, shape);
        NDArray sinArray = manager.create(sin, shape);
        return new NDList(cosArray, sinArray);
    }
}
