package io.policylong.model.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/**
 * The attention keys (rotated) and values of every layer for the tokens of one sequence run so far, so that the
 * tokens appended to it run alone instead of the whole sequence again (greedy decoding). Made by
 * {@link DecoderModel#newCache()}, extended by {@link DecoderModel#hiddenStates(NDArray, KeyValueCache,
 * ChunkSettings)}; close it to free its memory. Not thread-safe.
 */
public final class KeyValueCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private long length;

    KeyValueCache(NDManager manager, int layers) {
        this.manager = manager;
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    /** Tokens held. */
    public long length() {
        return length;
    }

    /**
     * The layer's keys and values {@code [1, kvHeads, length, headDim]} with the new ones appended. The cache owns
     * them (they stay valid until the layer is extended again); whatever the caller derives from them must go to
     * its own scope, or it would pile up here.
     */
    NDList extend(int layer, NDArray newKeys, NDArray newValues) {
        return new NDList(append(keys, layer, newKeys), append(values, layer, newValues));
    }

    private NDArray append(NDArray[] slots, int layer, NDArray array) {
        NDArray all = slots[layer] == null ? array : slots[layer].concat(array, 2);
        all.attach(manager);
        if (slots[layer] != null) {
            slots[layer].close();
        }
        slots[layer] = all;
        return all;
    }

    /** Counts the tokens whose keys and values every layer has just appended. */
    void advance(long tokens) {
        length += tokens;
    }

    /**
     * Forgets every token after the first {@code tokens}: to go back to an earlier point of the sequence, or to
     * undo a step that failed after some layers had appended.
     */
    public void truncate(long tokens) {
        if (tokens < 0 || tokens > length) {
            throw new IllegalArgumentException("cannot keep " + tokens + " of " + length + " tokens");
        }
        cut(keys, tokens);
        cut(values, tokens);
        length = tokens;
    }

    private void cut(NDArray[] slots, long tokens) {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == null || slots[i].getShape().get(2) == tokens) {
                continue;
            }
            NDArray kept = null;
            if (tokens > 0) {
                kept = slots[i].get(new NDIndex(":, :, :{}", tokens)).duplicate();
                kept.attach(manager);
            }
            slots[i].close();
            slots[i] = kept;
        }
    }

    /** Frees the keys and values. */
    @Override
    public void close() {
        manager.close();
    }
}
