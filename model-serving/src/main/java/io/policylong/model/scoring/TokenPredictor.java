package io.policylong.model.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.DecoderModel;

/**
 * The model's next-token distribution after a sequence: what evaluation needs beyond the per-position scores of
 * {@link EntropyScorer} (the rank of a token among all, the next token of a greedy answer). Each call runs the whole
 * sequence (there is no key/value cache), which is fine for answers of a few dozen tokens.
 */
public final class TokenPredictor {
    private final DecoderModel model;
    private final ChunkSettings chunks;

    public TokenPredictor(DecoderModel model, ChunkSettings chunks) {
        this.model = model;
        this.chunks = chunks;
    }

    /** The logits (float32, over the vocabulary) of the token after {@code ids}. */
    public synchronized float[] nextTokenLogits(long[] ids) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("a sequence needs at least one token");
        }
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager manager = model.newBatchManager()) {
            NDArray input = manager.create(ids, new Shape(1, ids.length));
            NDArray hidden = model.hiddenStates(input, new int[] {ids.length}, chunks);
            NDArray last = hidden.get(new NDIndex("0, {}:{}", ids.length - 1, ids.length));
            return model.logits(last).toType(DataType.FLOAT32, false).toFloatArray();
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** How many tokens the model finds strictly more likely than {@code token}, plus one (1: the most likely). */
    public static int rank(float[] logits, long token) {
        float target = logits[(int) token];
        int above = 0;
        for (float l : logits) {
            if (l > target) {
                above++;
            }
        }
        return above + 1;
    }

    /** The most likely token (the lowest id among ties). */
    public static long argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
