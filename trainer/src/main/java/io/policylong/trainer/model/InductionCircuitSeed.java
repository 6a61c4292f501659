package io.policylong.trainer.model;

import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RotaryFrequencies;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Starting weights for a fresh model that copies repeated text from the first step, which gradient descent
 * then refines on real text. In-context copying (an "induction" circuit: find the earlier place where the
 * last few tokens occurred and predict what followed them) is what makes a model's entropy fall where text
 * repeats, and so what the screening method measures; trained from random weights, a model of a few million
 * parameters finds it only after millions of tokens, more than an hour on two cores. Seeding it is a choice
 * of initialisation, nothing more: every weight stays trainable.
 *
 * <p>Layout, with {@code H} the hidden size, {@code D} the head size and {@code S} slots (the query heads that
 * share the first key/value head, at most {@link #MAX_SLOTS}, with {@code S * D <= H / 2}):
 * <ul>
 *   <li>token embeddings live in the first {@code H - S * D} hidden dimensions; slot {@code s} (the next
 *       {@code D} dimensions each) starts empty and holds, after layer 0, the token {@code s + 1} places back
 *       as a fixed orthonormal projection of its embedding;</li>
 *   <li>layer 0: query heads {@code 0 .. S-1} attend {@code 1 .. S} tokens back through their biases alone
 *       ({@link PositionalHeadBiases}) and write the value of that token into their slot;</li>
 *   <li>the last layer: its query heads compare, in the slowly rotating rotary dimensions (so that the score
 *       does not depend on the distance), the current token and the previous {@code S - 1} against each
 *       key's tokens {@code 1 .. S} back (each key/value group through its own coordinates). The longest
 *       match wins, and equally long ones share the attention, so the copy is sharp inside a repeat and a
 *       blend elsewhere. The values and outputs copy the attended token's embedding into the residual stream
 *       just before the output, where the tied embedding turns it into a high logit for that token (in an
 *       earlier layer, the layers above soon learn outputs that drown it).</li>
 * </ul>
 * The layers between keep their ordinary random start.
 */
public final class InductionCircuitSeed {
    /** Most tokens matched (and previous-token slots). */
    static final int MAX_SLOTS = 4;
    /** Std of the embedding's token part: large enough that a copied embedding gives a confident logit. */
    static final double EMBEDDING_STD = 0.15;
    /**
     * Attention score (nats) that one matching token contributes in the matching layer. Modest on purpose:
     * a match of all {@code S} tokens then outweighs the thousands of unrelated positions together, while
     * shorter matches mostly do not, so the copy is strong where a longer stretch repeats and a faint blend
     * elsewhere.
     */
    static final double MATCH_NATS = 2.8;
    /** Norm of the copied embedding written by the matching layer, in token embedding norms. */
    static final double COPY_NORM = 2.5;
    /**
     * Bias size per rotary pair of the previous-token heads: the score at their offset beats every other
     * distance up to 4,096 by about 10 nats (head size 48, rotary base 1e16; 12 at head size 64, base 1e8).
     */
    static final double POSITIONAL_STRENGTH = 12.0;
    /** Longest distance (tokens) over which a rotary pair must turn by at most one radian to carry a match. */
    static final int MATCH_DISTANCE = 1024;

    private InductionCircuitSeed() {
    }

    /** Whether the shape can hold the circuit; the reason if not, else null. */
    public static String unsupported(ModelConfig config) {
        if (!config.qkvBias()) {
            return "it needs query/key biases (a Qwen2 model)";
        }
        if (config.numLayers() < 2) {
            return "it needs at least 2 layers";
        }
        if (config.groupSize() < 2) {
            return "it needs at least two query heads per key/value head";
        }
        if (2 * config.headDim() > config.hiddenSize() / 2) {
            return "it needs hidden_size >= 4 * head_dim";
        }
        if (stableDimensions(config).size() < 4 * slots(config)) {
            return "too few rotary dimensions turn slowly enough at rope_theta " + config.ropeTheta()
                    + " (use a larger one, e.g. 1e16 for head size 48)";
        }
        return null;
    }

    /** Previous-token slots (and tokens matched) for this shape. */
    static int slots(ModelConfig config) {
        return Math.min(Math.min(MAX_SLOTS, config.groupSize()), config.hiddenSize() / 2 / config.headDim());
    }

    /**
     * Overwrites the circuit's weights in {@code weights} (checkpoint names to row-major values, as a fresh
     * model holds them).
     *
     * @throws IllegalArgumentException when the shape cannot hold it (see {@link #unsupported})
     */
    public static void apply(ModelConfig config, Map<String, float[]> weights, long seed) {
        String reason = unsupported(config);
        if (reason != null) {
            throw new IllegalArgumentException("cannot seed the copying circuit: " + reason);
        }
        SplittableRandom random = new SplittableRandom(seed ^ 0x1D0C7105L);
        int hidden = config.hiddenSize();
        int dim = config.headDim();
        int slots = slots(config);
        int tokenDims = hidden - slots * dim;
        int heads = config.numAttentionHeads();
        int inner = heads * dim;

        // Embeddings: tokens in the token part only.
        float[] embedding = weights.get("model.embed_tokens.weight");
        for (int row = 0; row < embedding.length / hidden; row++) {
            for (int c = 0; c < hidden; c++) {
                embedding[row * hidden + c] =
                        c < tokenDims ? (float) (EMBEDDING_STD * TrainableDecoder.gaussian(random)) : 0f;
            }
        }
        double tokenNorm = EMBEDDING_STD * Math.sqrt(tokenDims);

        // Layer 0: previous-token heads, each writing into its slot.
        String p0 = "model.layers.0.";
        double[][] readToken = orthonormalRows(dim, tokenDims, random);
        float[] k0 = weights.get(p0 + "self_attn.k_proj.weight");
        float[] kb0 = weights.get(p0 + "self_attn.k_proj.bias");
        float[] q0 = weights.get(p0 + "self_attn.q_proj.weight");
        float[] qb0 = weights.get(p0 + "self_attn.q_proj.bias");
        float[] v0 = weights.get(p0 + "self_attn.v_proj.weight");
        float[] vb0 = weights.get(p0 + "self_attn.v_proj.bias");
        float[] o0 = weights.get(p0 + "self_attn.o_proj.weight");
        float[] keyBias = PositionalHeadBiases.key(dim, POSITIONAL_STRENGTH);
        double[] inverse = RotaryFrequencies.of(config).inverseFrequencies();
        for (int d = 0; d < dim; d++) {
            Arrays.fill(k0, d * hidden, (d + 1) * hidden, 0f);
            kb0[d] = keyBias[d];
            vb0[d] = 0f;
            for (int c = 0; c < hidden; c++) {
                v0[d * hidden + c] = c < tokenDims ? (float) readToken[d][c] : 0f;
            }
        }
        for (int h = 0; h < slots; h++) {
            float[] queryBias = PositionalHeadBiases.query(inverse, h + 1, POSITIONAL_STRENGTH);
            for (int d = 0; d < dim; d++) {
                Arrays.fill(q0, (h * dim + d) * hidden, (h * dim + d + 1) * hidden, 0f);
                qb0[h * dim + d] = queryBias[d];
            }
        }
        // A value is a normalised token (norm sqrt(H)) projected onto D of its tokenDims dimensions; scaled so
        // that each slot is about as large as a token embedding.
        double slotScale = tokenNorm / (Math.sqrt(hidden) * Math.sqrt((double) dim / tokenDims));
        for (int c = tokenDims; c < hidden; c++) {
            Arrays.fill(o0, c * inner, (c + 1) * inner, 0f);
        }
        for (int h = 0; h < slots; h++) {
            for (int d = 0; d < dim; d++) {
                for (int c = 0; c < tokenDims; c++) {
                    o0[c * inner + h * dim + d] = 0f;
                }
                o0[(tokenDims + h * dim + d) * inner + h * dim + d] = (float) slotScale;
            }
        }
        Arrays.fill(weights.get(p0 + "mlp.down_proj.weight"), tokenDims * config.intermediateSize(),
                hidden * config.intermediateSize(), 0f);

        // The last layer: matching heads. After RMSNorm the token part and every slot have norm about
        // sqrt(H / (S + 1)); per coordinate a slot is that over sqrt(D), a projected token that over
        // sqrt(tokenDims).
        String p1 = "model.layers." + (config.numLayers() - 1) + ".";
        float[] q1 = weights.get(p1 + "self_attn.q_proj.weight");
        float[] k1 = weights.get(p1 + "self_attn.k_proj.weight");
        float[] v1 = weights.get(p1 + "self_attn.v_proj.weight");
        float[] o1 = weights.get(p1 + "self_attn.o_proj.weight");
        for (String name : List.of("q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias", "v_proj.bias",
                "o_proj.weight")) {
            Arrays.fill(weights.get(p1 + "self_attn." + name), 0f);
        }
        List<Integer> stable = stableDimensions(config);
        int perToken = stable.size() / slots;
        double part = Math.sqrt(hidden / (slots + 1.0));
        double slotCoordinate = part / Math.sqrt(dim);
        double projectedCoordinate = part / Math.sqrt(tokenDims);
        // score = (q . k) / sqrt(D) over perToken coordinates of one matching token.
        double tokenAgainstSlot = MATCH_NATS * Math.sqrt(dim) / (perToken * slotCoordinate * projectedCoordinate);
        double slotAgainstSlot = MATCH_NATS * Math.sqrt(dim) / (perToken * slotCoordinate * slotCoordinate);
        double keyScale = Math.sqrt(tokenAgainstSlot);
        double copyScale = Math.sqrt(COPY_NORM * tokenNorm / (heads * part * Math.sqrt((double) dim / tokenDims)));
        int group = config.groupSize();
        for (int g = 0; g < config.numKeyValueHeads(); g++) {
            // Key part s holds coordinates of slot s (the token s + 1 back); the query's part s reads the token
            // s back: the current token (through the same projection as layer 0's value) or slot s - 1.
            int[][] coordinates = new int[slots][];
            for (int s = 0; s < slots; s++) {
                coordinates[s] = randomSubset(dim, perToken, random);
                for (int j = 0; j < perToken; j++) {
                    int keyRow = g * dim + stable.get(s * perToken + j);
                    k1[keyRow * hidden + tokenDims + s * dim + coordinates[s][j]] = (float) keyScale;
                }
            }
            for (int r = 0; r < group; r++) {
                int h = g * group + r;
                for (int s = 0; s < slots; s++) {
                    for (int j = 0; j < perToken; j++) {
                        int row = h * dim + stable.get(s * perToken + j);
                        int coordinate = coordinates[s][j];
                        if (s == 0) {
                            for (int c = 0; c < tokenDims; c++) {
                                q1[row * hidden + c] = (float) (tokenAgainstSlot / keyScale * readToken[coordinate][c]);
                            }
                        } else {
                            q1[row * hidden + tokenDims + (s - 1) * dim + coordinate] =
                                    (float) (slotAgainstSlot / keyScale);
                        }
                    }
                }
            }
            double[][] copy = orthonormalRows(dim, tokenDims, random);
            for (int d = 0; d < dim; d++) {
                for (int c = 0; c < hidden; c++) {
                    v1[(g * dim + d) * hidden + c] = c < tokenDims ? (float) (copyScale * copy[d][c]) : 0f;
                }
                for (int c = 0; c < tokenDims; c++) {
                    for (int r = 0; r < group; r++) {
                        o1[c * inner + (g * group + r) * dim + d] = (float) (copyScale * copy[d][c]);
                    }
                }
            }
        }
    }

    /**
     * Rotary dimensions that turn by at most one radian over {@link #MATCH_DISTANCE} tokens: both dimensions
     * of each such pair, the slowest pairs first.
     */
    static List<Integer> stableDimensions(ModelConfig config) {
        double[] inverse = RotaryFrequencies.of(config).inverseFrequencies();
        List<Integer> dims = new ArrayList<>();
        for (int i = inverse.length - 1; i >= 0; i--) {
            if (inverse[i] * MATCH_DISTANCE <= 1.0) {
                dims.add(i);
                dims.add(i + inverse.length);
            }
        }
        return dims;
    }

    private static int[] randomSubset(int n, int k, SplittableRandom random) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        for (int i = 0; i < k; i++) {
            int j = i + random.nextInt(n - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return Arrays.copyOf(all, k);
    }

    /** {@code rows} orthonormal vectors of length {@code width} (Gram-Schmidt on Gaussian vectors). */
    static double[][] orthonormalRows(int rows, int width, SplittableRandom random) {
        if (rows > width) {
            throw new IllegalArgumentException(rows + " orthonormal rows need width >= " + rows);
        }
        double[][] m = new double[rows][width];
        for (int r = 0; r < rows; r++) {
            while (true) {
                for (int c = 0; c < width; c++) {
                    m[r][c] = TrainableDecoder.gaussian(random);
                }
                for (int s = 0; s < r; s++) {
                    double dot = 0;
                    for (int c = 0; c < width; c++) {
                        dot += m[r][c] * m[s][c];
                    }
                    for (int c = 0; c < width; c++) {
                        m[r][c] -= dot * m[s][c];
                    }
                }
                double norm = 0;
                for (int c = 0; c < width; c++) {
                    norm += m[r][c] * m[r][c];
                }
                norm = Math.sqrt(norm);
                if (norm > 1e-6) {
                    for (int c = 0; c < width; c++) {
                        m[r][c] /= norm;
                    }
                    break;
                }
            }
        }
        return m;
    }
}
