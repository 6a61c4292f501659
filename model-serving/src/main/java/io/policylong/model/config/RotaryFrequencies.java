package io.policylong.model.config;

/**
 * Rotary embedding inverse frequencies and the cos/sin magnitude ("attention scaling") for a configuration,
 * computed in double precision. Follows the Hugging Face reference: {@code inv_freq[i] = 1 / theta^(2i/d)},
 * then the rope scaling type's adjustment.
 *
 * @param inverseFrequencies one value per rotary pair, {@code headDim / 2} entries
 * @param attentionScaling factor multiplied into cos and sin (1 except for YaRN)
 */
public record RotaryFrequencies(double[] inverseFrequencies, double attentionScaling) {

    public RotaryFrequencies {
        inverseFrequencies = inverseFrequencies.clone();
    }

    @Override
    public double[] inverseFrequencies() {
        return inverseFrequencies.clone();
    }

    /** Computes the frequencies of a model configuration. */
    public static RotaryFrequencies of(ModelConfig config) {
        int dim = config.headDim();
        double base = config.ropeTheta();
        double[] original = new double[dim / 2];
        for (int i = 0; i < original.length; i++) {
            original[i] = 1.0 / Math.pow(base, (2.0 * i) / dim);
        }
        RopeScaling scaling = config.ropeScaling();
        if (scaling instanceof RopeScaling.None) {
            return new RotaryFrequencies(original, 1.0);
        }
        if (scaling instanceof RopeScaling.Linear linear) {
            double[] scaled = new double[original.length];
            for (int i = 0; i < scaled.length; i++) {
                scaled[i] = original[i] / linear.factor();
            }
            return new RotaryFrequencies(scaled, 1.0);
        }
        if (scaling instanceof RopeScaling.Llama3 llama3) {
            return new RotaryFrequencies(llama3(original, llama3), 1.0);
        }
        if (scaling instanceof RopeScaling.Yarn yarn) {
            return yarn(original, base, dim, yarn);
        }
        throw new IllegalStateException("unhandled rope scaling " + scaling);
    }

    private static double[] llama3(double[] original, RopeScaling.Llama3 s) {
        double lowFreqWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highFreqWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        double[] result = new double[original.length];
        for (int i = 0; i < original.length; i++) {
            double wavelen = 2 * Math.PI / original[i];
            if (wavelen < highFreqWavelen) {
                result[i] = original[i];
            } else if (wavelen > lowFreqWavelen) {
                result[i] = original[i] / s.factor();
            } else {
                double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                result[i] = (1 - smooth) * original[i] / s.factor() + smooth * original[i];
            }
        }
        return result;
    }

    private static RotaryFrequencies yarn(double[] original, double base, int dim, RopeScaling.Yarn s) {
        double factor = s.factor();
        double attention = s.attentionFactor();
        if (Double.isNaN(attention)) {
            boolean bothMscales = !Double.isNaN(s.mscale()) && s.mscale() != 0
                    && !Double.isNaN(s.mscaleAllDim()) && s.mscaleAllDim() != 0;
            attention = bothMscales
                    ? yarnMscale(factor, s.mscale()) / yarnMscale(factor, s.mscaleAllDim())
                    : yarnMscale(factor, 1.0);
        }
        double low = correctionDim(s.betaFast(), dim, base, s.originalMaxPositionEmbeddings());
        double high = correctionDim(s.betaSlow(), dim, base, s.originalMaxPositionEmbeddings());
        if (s.truncate()) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) {
            high += 0.001; // the reference avoids a zero-width ramp the same way
        }
        double[] result = new double[original.length];
        for (int i = 0; i < original.length; i++) {
            double ramp = Math.min(1.0, Math.max(0.0, (i - low) / (high - low)));
            double extrapolationWeight = 1 - ramp;
            double interpolated = original[i] / factor;
            result[i] = interpolated * (1 - extrapolationWeight) + original[i] * extrapolationWeight;
        }
        return new RotaryFrequencies(result, attention);
    }

    private static double yarnMscale(double scale, double mscale) {
        return scale <= 1 ? 1.0 : 0.1 * mscale * Math.log(scale) + 1.0;
    }

    /** The dimension at which a wavelength completes {@code rotations} turns over the original context. */
    private static double correctionDim(double rotations, int dim, double base, double originalContext) {
        return dim * Math.log(originalContext / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }
}
