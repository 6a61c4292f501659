package io.policylong.model.runtime;

/**
 * How the forward pass splits long sequences so that memory grows linearly with length and every large
 * temporary stays within a fixed size. Each setting is the size in bytes of the largest block one step
 * creates; the number of rows per step follows from it:
 *
 * <ul>
 *   <li>{@code attentionBlockBytes}: attention scores of one query chunk, {@code batch x heads x rows x
 *       length} floats. Queries run in chunks against the keys up to the end of the chunk, so the
 *       {@code length^2} score matrix never exists; only a {@code rows x rows} causal mask does.
 *   <li>{@code mlpBlockBytes}: MLP activations of one position chunk, {@code batch x rows x
 *       intermediate_size} floats.
 *   <li>{@code entropyBlockBytes}: logits of one chunk of scored positions, {@code rows x vocab_size}
 *       floats (only scored positions go through the LM head).
 * </ul>
 *
 * Results do not depend on these values beyond float32 rounding. Blocks of at most 32 MiB are the sweet
 * spot on CPUs: they stay in the C allocator's reusable memory instead of being mapped and page-faulted in
 * at every step; GPUs prefer larger blocks.
 */
public record ChunkSettings(long attentionBlockBytes, long mlpBlockBytes, long entropyBlockBytes) {

    private static final long MIB = 1024 * 1024;

    /** 8 MiB attention blocks, 32 MiB MLP and logits blocks (measured best on a 2-core CPU). */
    public static final ChunkSettings DEFAULT = new ChunkSettings(8 * MIB, 32 * MIB, 32 * MIB);

    public ChunkSettings {
        if (attentionBlockBytes <= 0 || mlpBlockBytes <= 0 || entropyBlockBytes <= 0) {
            throw new IllegalArgumentException("block sizes must be positive: " + attentionBlockBytes + ", "
                    + mlpBlockBytes + ", " + entropyBlockBytes);
        }
    }

    /** Settings from sizes in MiB (fractions allowed). */
    public static ChunkSettings ofMebibytes(double attention, double mlp, double entropy) {
        return new ChunkSettings(Math.round(attention * MIB), Math.round(mlp * MIB), Math.round(entropy * MIB));
    }

    /** Query rows per attention step for a batch of {@code length}-token rows with {@code heads} heads. */
    public int attentionRows(long batch, long heads, long length) {
        return rows(attentionBlockBytes, batch * heads * length, length);
    }

    /** Positions per MLP step. */
    public int mlpRows(long batch, long intermediateSize, long length) {
        return rows(mlpBlockBytes, batch * intermediateSize, length);
    }

    /** Scored positions per logits-to-entropy step. */
    public int entropyRows(long vocabSize, long positions) {
        return rows(entropyBlockBytes, vocabSize, positions);
    }

    private static int rows(long budgetBytes, long floatsPerRow, long available) {
        long rows = budgetBytes / (Float.BYTES * Math.max(1, floatsPerRow));
        return (int) Math.max(1, Math.min(rows, Math.max(1, available)));
    }
}
