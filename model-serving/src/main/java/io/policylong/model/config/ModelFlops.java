package io.policylong.model.config;

/**
 * Model FLOPs of a forward pass (a multiply-add counts as two): the projections and MLP of every layer for
 * every token, causal attention (each query against the keys up to it), and the LM head for the positions
 * whose distribution is computed. Work that the implementation adds (padding, masked attention entries
 * computed and discarded) is deliberately not counted, so FLOP/s derived from this measure useful work.
 */
public final class ModelFlops {
    private ModelFlops() {
    }

    /** FLOPs of one forward pass over a sequence of {@code length} tokens with {@code headPositions} logits. */
    public static double forward(ModelConfig c, long length, long headPositions) {
        double q = (double) c.numAttentionHeads() * c.headDim();
        double kv = (double) c.numKeyValueHeads() * c.headDim();
        double h = c.hiddenSize();
        double projections = 2 * (h * q + 2 * h * kv + q * h) + 2 * 3 * h * c.intermediateSize();
        // Query t attends to t+1 keys: QK^T and PV each cost 2 * heads * headDim per key.
        double attention = 4 * q * (length * (length + 1) / 2.0);
        double perLayer = projections * length + attention;
        return perLayer * c.numLayers() + 2 * h * c.vocabSize() * headPositions;
    }
}
