package io.policylong.model.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.DecoderModel;
import io.policylong.model.runtime.KeyValueCache;

/**
 * The model's next-token distribution after a sequence: what evaluation needs beyond the per-position scores of
 * {@link EntropyScorer} (the rank of a token among all, the next token of a greedy answer). A {@link Continuation}
 * keeps the sequence's keys and values, so that each token appended to it runs alone.
 */
public final class TokenPredictor {
    private final DecoderModel model;
    private final ChunkSettings chunks;

    public TokenPredictor(DecoderModel model, ChunkSettings chunks) {
        this.model = model;
        this.chunks = chunks;
    }

    /** The logits (float32, over the vocabulary) of the token after {@code ids}, keeping nothing. */
    public synchronized float[] nextTokenLogits(long[] ids) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("a sequence needs at least one token");
        }
        return run(null, ids);
    }

    /** A continuation of {@code ids}: the model has run them once and holds their keys and values. */
    public synchronized Continuation start(long[] ids) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("a sequence needs at least one token");
        }
        KeyValueCache cache = model.newCache();
        try {
            return new Continuation(cache, run(cache, ids));
        } catch (RuntimeException | Error e) {
            cache.close();
            throw e;
        }
    }

    /**
     * Runs {@code ids} after what the cache holds (alone without a cache); the logits (float32) of the token after
     * the last.
     */
    private float[] run(KeyValueCache cache, long[] ids) {
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager manager = model.newBatchManager()) {
            NDArray input = manager.create(ids, new Shape(1, ids.length));
            NDArray hidden = cache == null ? model.hiddenStates(input, new int[] {ids.length}, chunks)
                    : model.hiddenStates(input, cache, chunks);
            NDArray last = hidden.get(new NDIndex("0, {}:{}", ids.length - 1, ids.length));
            return model.logits(last).toType(DataType.FLOAT32, false).toFloatArray();
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /**
     * A sequence being extended: the logits of the token after it, and tokens appended at the cost of running only
     * them; it can go back to an earlier point. Close it to free its keys and values.
     */
    public final class Continuation implements AutoCloseable {
        private final KeyValueCache cache;
        private float[] logits;
        private boolean closed;

        private Continuation(KeyValueCache cache, float[] logits) {
            this.cache = cache;
            this.logits = logits;
        }

        /** Tokens in the sequence. */
        public long length() {
            synchronized (TokenPredictor.this) {
                return cache.length();
            }
        }

        /** The logits (float32, over the vocabulary) of the token after the sequence so far. */
        public float[] logits() {
            synchronized (TokenPredictor.this) {
                usable();
                if (logits == null) {
                    throw new IllegalStateException("the continuation went back: append a token to get logits");
                }
                return logits;
            }
        }

        /** Appends tokens; the logits of the token after them. */
        public float[] append(long... ids) {
            if (ids.length == 0) {
                throw new IllegalArgumentException("nothing to append");
            }
            synchronized (TokenPredictor.this) {
                usable();
                logits = run(cache, ids);
                return logits;
            }
        }

        /** Goes back to the first {@code tokens} of the sequence; {@link #logits()} waits for the next append. */
        public void truncate(long tokens) {
            synchronized (TokenPredictor.this) {
                usable();
                if (tokens != cache.length()) {
                    cache.truncate(tokens);
                    logits = null;
                }
            }
        }

        private void usable() {
            if (closed) {
                throw new IllegalStateException("the continuation is closed");
            }
        }

        @Override
        public void close() {
            synchronized (TokenPredictor.this) {
                if (!closed) {
                    closed = true;
                    cache.close();
                }
            }
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
