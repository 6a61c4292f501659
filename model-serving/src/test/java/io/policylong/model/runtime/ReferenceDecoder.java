package io.policylong.model.runtime;

import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import java.util.Map;

/**
 * A straightforward double-precision Qwen2/Llama forward pass over one sequence, written independently of
 * the DJL decoder (plain loops, no chunking, its own rotary frequencies), used as the ground truth.
 */
public final class ReferenceDecoder {
    private final ModelConfig c;
    private final Map<String, float[]> w;
    private final double[] invFreq;
    private final double ropeScale;

    public ReferenceDecoder(ModelConfig config, Map<String, float[]> weights) {
        this.c = config;
        this.w = weights;
        int d = config.headDim();
        double[] inv = new double[d / 2];
        for (int i = 0; i < d / 2; i++) {
            inv[i] = Math.pow(config.ropeTheta(), -(2.0 * i) / d);
        }
        double scale = 1.0;
        RopeScaling s = config.ropeScaling();
        if (s instanceof RopeScaling.Linear l) {
            for (int i = 0; i < inv.length; i++) {
                inv[i] /= l.factor();
            }
        } else if (s instanceof RopeScaling.Llama3 l) {
            for (int i = 0; i < inv.length; i++) {
                double wavelength = 2 * Math.PI / inv[i];
                double lowWave = l.originalMaxPositionEmbeddings() / l.lowFreqFactor();
                double highWave = l.originalMaxPositionEmbeddings() / l.highFreqFactor();
                if (wavelength > lowWave) {
                    inv[i] = inv[i] / l.factor();
                } else if (wavelength >= highWave) {
                    double t = (l.originalMaxPositionEmbeddings() / wavelength - l.lowFreqFactor())
                            / (l.highFreqFactor() - l.lowFreqFactor());
                    inv[i] = t * inv[i] + (1 - t) * inv[i] / l.factor();
                }
            }
        } else if (s instanceof RopeScaling.Yarn y) {
            // Rotations over the original context: dims turning more than betaFast times keep their frequency,
            // fewer than betaSlow times are interpolated, a linear ramp in between.
            double lo = Math.floor(d * Math.log(y.originalMaxPositionEmbeddings() / (y.betaFast() * 2 * Math.PI))
                    / (2 * Math.log(config.ropeTheta())));
            double hi = Math.ceil(d * Math.log(y.originalMaxPositionEmbeddings() / (y.betaSlow() * 2 * Math.PI))
                    / (2 * Math.log(config.ropeTheta())));
            lo = Math.max(lo, 0);
            hi = Math.min(hi, d - 1);
            for (int i = 0; i < inv.length; i++) {
                double ramp = (i - lo) / (hi == lo ? 0.001 : hi - lo);
                ramp = Math.max(0, Math.min(1, ramp));
                inv[i] = ramp * inv[i] / y.factor() + (1 - ramp) * inv[i];
            }
            scale = Double.isNaN(y.attentionFactor()) ? 1 + 0.1 * Math.log(y.factor()) : y.attentionFactor();
        }
        this.invFreq = inv;
        this.ropeScale = scale;
    }

    /** Entropy (row 0) and log-probability of the next token (row 1) at positions 0..n-2. */
    public double[][] score(long[] ids) {
        int n = ids.length;
        int hid = c.hiddenSize();
        double[][] x = new double[n][hid];
        float[] emb = w.get("model.embed_tokens.weight");
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < hid; j++) {
                x[t][j] = emb[(int) ids[t] * hid + j];
            }
        }
        for (int layer = 0; layer < c.numLayers(); layer++) {
            String p = "model.layers." + layer + ".";
            double[][] h = norm(x, w.get(p + "input_layernorm.weight"));
            double[][] attn = attention(h, p);
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < hid; j++) {
                    x[t][j] += attn[t][j];
                }
            }
            double[][] h2 = norm(x, w.get(p + "post_attention_layernorm.weight"));
            double[][] gate = project(h2, p + "mlp.gate_proj");
            double[][] up = project(h2, p + "mlp.up_proj");
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < gate[t].length; j++) {
                    double g = gate[t][j];
                    gate[t][j] = g / (1 + Math.exp(-g)) * up[t][j];
                }
            }
            double[][] down = project(gate, p + "mlp.down_proj");
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < hid; j++) {
                    x[t][j] += down[t][j];
                }
            }
        }
        double[][] normed = norm(x, w.get("model.norm.weight"));
        float[] head = c.tieWordEmbeddings() ? emb : w.get("lm_head.weight");
        int vocab = c.vocabSize();
        double[][] out = new double[2][n - 1];
        for (int t = 0; t < n - 1; t++) {
            double[] logits = new double[vocab];
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                double s = 0;
                for (int j = 0; j < hid; j++) {
                    s += head[v * hid + j] * normed[t][j];
                }
                logits[v] = s;
                max = Math.max(max, s);
            }
            double z = 0;
            for (int v = 0; v < vocab; v++) {
                z += Math.exp(logits[v] - max);
            }
            double logZ = max + Math.log(z);
            double entropy = 0;
            for (int v = 0; v < vocab; v++) {
                double lp = logits[v] - logZ;
                entropy -= Math.exp(lp) * lp;
            }
            out[0][t] = entropy;
            out[1][t] = logits[(int) ids[t + 1]] - logZ;
        }
        return out;
    }

    private double[][] attention(double[][] h, String p) {
        int n = h.length;
        int heads = c.numAttentionHeads();
        int group = heads / c.numKeyValueHeads();
        int d = c.headDim();
        double[][] q = rope(project(h, p + "self_attn.q_proj"), heads);
        double[][] k = rope(project(h, p + "self_attn.k_proj"), c.numKeyValueHeads());
        double[][] v = project(h, p + "self_attn.v_proj");
        double[][] context = new double[n][heads * d];
        for (int head = 0; head < heads; head++) {
            int kvHead = head / group;
            for (int t = 0; t < n; t++) {
                double[] scores = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int s = 0; s <= t; s++) {
                    double dot = 0;
                    for (int i = 0; i < d; i++) {
                        dot += q[t][head * d + i] * k[s][kvHead * d + i];
                    }
                    scores[s] = dot / Math.sqrt(d);
                    max = Math.max(max, scores[s]);
                }
                double sum = 0;
                for (int s = 0; s <= t; s++) {
                    scores[s] = Math.exp(scores[s] - max);
                    sum += scores[s];
                }
                for (int s = 0; s <= t; s++) {
                    for (int i = 0; i < d; i++) {
                        context[t][head * d + i] += scores[s] / sum * v[s][kvHead * d + i];
                    }
                }
            }
        }
        return project(context, p + "self_attn.o_proj");
    }

    /** Rotates each head's (i, i + d/2) pairs by position * frequency, scaled as configured. */
    private double[][] rope(double[][] x, int heads) {
        int d = c.headDim();
        int half = d / 2;
        double[][] out = new double[x.length][x[0].length];
        for (int t = 0; t < x.length; t++) {
            for (int head = 0; head < heads; head++) {
                int o = head * d;
                for (int i = 0; i < half; i++) {
                    double angle = t * invFreq[i];
                    double a = x[t][o + i];
                    double b = x[t][o + half + i];
                    out[t][o + i] = (a * Math.cos(angle) - b * Math.sin(angle)) * ropeScale;
                    out[t][o + half + i] = (b * Math.cos(angle) + a * Math.sin(angle)) * ropeScale;
                }
            }
        }
        return out;
    }

    private double[][] project(double[][] x, String name) {
        float[] weight = w.get(name + ".weight");
        float[] bias = w.get(name + ".bias");
        int in = x[0].length;
        int outSize = weight.length / in;
        double[][] y = new double[x.length][outSize];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < outSize; o++) {
                double s = bias == null ? 0 : bias[o];
                for (int i = 0; i < in; i++) {
                    s += weight[o * in + i] * x[t][i];
                }
                y[t][o] = s;
            }
        }
        return y;
    }

    private double[][] norm(double[][] x, float[] weight) {
        double[][] y = new double[x.length][x[0].length];
        for (int t = 0; t < x.length; t++) {
            double ms = 0;
            for (double v : x[t]) {
                ms += v * v;
            }
            double inv = 1 / Math.sqrt(ms / x[t].length + c.rmsNormEps());
            for (int j = 0; j < x[t].length; j++) {
                y[t][j] = x[t][j] * inv * weight[j];
            }
        }
        return y;
    }
}
