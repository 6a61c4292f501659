package io.policylong.model.config;

/**
 * The {@code rope_scaling} block of a model configuration. Each type changes the rotary inverse
 * frequencies (and YaRN also the magnitude of cos/sin) exactly as the reference implementation does;
 * see {@link RotaryFrequencies}.
 */
public sealed interface RopeScaling {

    /** The {@code rope_type} name as written in config.json. */
    String type();

    /** No scaling ({@code rope_scaling} absent, null or of type {@code default}). */
    record None() implements RopeScaling {
        @Override
        public String type() {
            return "default";
        }
    }

    /** Position interpolation: every inverse frequency divided by {@code factor}. */
    record Linear(double factor) implements RopeScaling {
        @Override
        public String type() {
            return "linear";
        }
    }

    /**
     * Llama 3.1 scaling: low frequencies divided by {@code factor}, high ones kept, a smooth blend between.
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, double originalMaxPositionEmbeddings)
            implements RopeScaling {
        @Override
        public String type() {
            return "llama3";
        }
    }

    /**
     * YaRN: per-dimension blend of interpolated and original frequencies over a correction range derived
     * from {@code betaFast}/{@code betaSlow}, plus an attention factor applied to cos and sin.
     *
     * @param attentionFactor explicit attention factor, or NaN to derive it from {@code factor} and the
     *     optional {@code mscale}/{@code mscaleAllDim}
     * @param mscale NaN when absent
     * @param mscaleAllDim NaN when absent
     */
    record Yarn(double factor, double originalMaxPositionEmbeddings, double betaFast, double betaSlow,
            double mscale, double mscaleAllDim, double attentionFactor, boolean truncate) implements RopeScaling {
        @Override
        public String type() {
            return "yarn";
        }
    }
}
