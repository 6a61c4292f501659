package io.policylong.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW with decoupled weight decay (not applied to one-dimensional parameters: norms and biases) and
 * clipping of the global gradient norm. The moment update runs in the engine's fused Adam kernel, in the
 * bias-corrected form {@code w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)}. Gradients are
 * read from the parameters and cleared after every step.
 */
public final class AdamW implements AutoCloseable {
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final double maxGradientNorm;
    private final NDManager manager;
    private final Map<String, NDArray> firstMoments = new LinkedHashMap<>();
    private final Map<String, NDArray> secondMoments = new LinkedHashMap<>();
    private long steps;

    /**
     * @param maxGradientNorm clip the global gradient norm to this value; 0 or less disables clipping
     */
    public AdamW(NDManager parent, double beta1, double beta2, double epsilon, double weightDecay,
            double maxGradientNorm) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        this.maxGradientNorm = maxGradientNorm;
        this.manager = parent.newSubManager();
    }

    /** Updates taken so far (the {@code t} of the bias correction). */
    public long steps() {
        return steps;
    }

    /**
     * Applies one update to every parameter from its accumulated gradient, then clears the gradients.
     *
     * A gradient that is not finite (an overflow somewhere in the step) is discarded without touching the
     * weights or the moments, which it would otherwise turn into NaN for good.
     *
     * @return the global gradient norm before clipping; not finite when the update was skipped
     */
    public double step(Map<String, NDArray> parameters, double learningRate) {
        double norm = gradientNorm(parameters);
        if (!Double.isFinite(norm)) {
            for (NDArray p : parameters.values()) {
                JniUtils.zeroGrad((PtNDArray) p);
            }
            return norm;
        }
        float rescale = maxGradientNorm > 0 && norm > maxGradientNorm ? (float) (maxGradientNorm / (norm + 1e-6)) : 1f;
        steps++;
        float corrected = (float) (learningRate * Math.sqrt(1 - Math.pow(beta2, steps)) / (1 - Math.pow(beta1, steps)));
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            NDArray p = e.getValue();
            NDArray m = firstMoments.computeIfAbsent(e.getKey(), k -> zerosLike(p));
            NDArray v = secondMoments.computeIfAbsent(e.getKey(), k -> zerosLike(p));
            boolean decay = p.getShape().dimension() > 1;
            try (NDArray gradient = p.getGradient()) {
                JniUtils.adamUpdate((PtNDArray) p, (PtNDArray) gradient, (PtNDArray) m, (PtNDArray) v,
                        (float) learningRate, corrected, decay ? (float) weightDecay : 0f, rescale, -1f,
                        (float) beta1, (float) beta2, (float) epsilon, true);
            }
            JniUtils.zeroGrad((PtNDArray) p);
        }
        return norm;
    }

    private double gradientNorm(Map<String, NDArray> parameters) {
        double sum = 0;
        try (NDManager temp = manager.newSubManager()) {
            for (NDArray p : parameters.values()) {
                NDArray gradient = p.getGradient();
                gradient.attach(temp);
                sum += gradient.toType(DataType.FLOAT64, false).square().sum().getDouble();
            }
        }
        return Math.sqrt(sum);
    }

    private NDArray zerosLike(NDArray p) {
        return manager.zeros(p.getShape(), p.getDataType());
    }

    /** The moments and step count, to save with a checkpoint. */
    public Map<String, float[]> state() {
        Map<String, float[]> state = new LinkedHashMap<>();
        firstMoments.forEach((name, m) -> state.put("m." + name, m.toType(DataType.FLOAT32, false).toFloatArray()));
        secondMoments.forEach((name, v) -> state.put("v." + name, v.toType(DataType.FLOAT32, false).toFloatArray()));
        return state;
    }

    /** Restores moments saved by {@link #state()} for the given parameters, and the step count. */
    public void restore(Map<String, NDArray> parameters, Map<String, float[]> state, long steps) {
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            Shape shape = e.getValue().getShape();
            float[] m = state.get("m." + e.getKey());
            float[] v = state.get("v." + e.getKey());
            if (m == null || v == null || m.length != shape.size() || v.length != shape.size()) {
                throw new IllegalArgumentException("optimizer state has no moments of the right size for "
                        + e.getKey());
            }
            firstMoments.put(e.getKey(), manager.create(m, shape).toType(e.getValue().getDataType(), false));
            secondMoments.put(e.getKey(), manager.create(v, shape).toType(e.getValue().getDataType(), false));
        }
        this.steps = steps;
    }

    @Override
    public void close() {
        manager.close();
    }
}
