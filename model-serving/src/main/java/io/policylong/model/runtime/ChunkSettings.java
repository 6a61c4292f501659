package io.policylong.model.runtime;

/**
 * How the forward pass splits long sequences so that peak memory grows linearly with length.
 *
 * <ul>
 *   <li>{@code attentionChunk}: query rows per attention step. Scores and probabilities are
 *       {@code heads x attentionChunk x length} floats per sequence instead of {@code heads x length^2}.
 *   <li>{@code mlpChunk}: positions per MLP step; bounds the {@code intermediate_size}-wide activations.
 *   <li>{@code entropyChunk}: positions per logits-to-entropy step; bounds the {@code vocab_size}-wide
 *       logits (the largest tensor for big vocabularies: 512 positions x 152k vocabulary = 311 MB).
 * </ul>
 * Results do not depend on these values beyond float32 rounding.
 */
public record ChunkSettings(int attentionChunk, int mlpChunk, int entropyChunk) {

    /** 512 / 2048 / 512: bounded memory on CPU, large enough steps for efficient matrix multiplies. */
    public static final ChunkSettings DEFAULT = new ChunkSettings(512, 2048, 512);

    public ChunkSettings {
        if (attentionChunk <= 0 || mlpChunk <= 0 || entropyChunk <= 0) {
            throw new IllegalArgumentException("chunk sizes must be positive: " + attentionChunk + ", " + mlpChunk
                    + ", " + entropyChunk);
        }
    }
}
