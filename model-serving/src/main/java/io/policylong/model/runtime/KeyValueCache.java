package io.policylong.model.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

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
     * The layer's keys and values {@code [1, kvHeads, length, headDim]} with the new ones appended, in
     * {@code scope}; the cache keeps its own copy (the arrays handed out die with the caller's scope).
     */
    NDList extend(int layer, NDArray newKeys, NDArray newValues, NDManager scope) {
        NDArray allKeys = keys[layer] == null ? newKeys : keys[layer].concat(newKeys, 2);
        NDArray allValues = values[layer] == null ? newValues : values[layer].concat(newValues, 2);
        allKeys.attach(scope);
        allValues.attach(scope);
        keep(keys, layer, allKeys);
        keep(values, layer, allValues);
        return new NDList(allKeys, allValues);
    }

    private void keep(NDArray[] slots, int layer, NDArray array) {
        NDArray copy = array.duplicate();
        copy.attach(manager);
        if (slots[layer] != null) {
            slots[layer].close();
        }
        slots[layer] = copy;
    }

    /** Counts the tokens whose keys and values every layer has just appended. */
    void advance(long tokens) {
        length += tokens;
    }

    /** An independent copy: extending one leaves the other as it was. */
    public KeyValueCache fork() {
        KeyValueCache copy = new KeyValueCache(manager.getParentManager().newSubManager(), keys.length);
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                copy.keys[i] = keys[i].duplicate();
                copy.keys[i].attach(copy.manager);
                copy.values[i] = values[i].duplicate();
                copy.values[i].attach(copy.manager);
            }
        }
        copy.length = length;
        return copy;
    }

    /** Frees the keys and values. */
    @Override
    public void close() {
        manager.close();
    }
}
