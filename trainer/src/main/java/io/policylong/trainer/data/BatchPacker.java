package io.policylong.trainer.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Packs token sequences into {@link PackedBatch}es of full rows, deterministically from a seed. Every epoch
 * visits the sequences in a new shuffled order; a sequence continues across rows when it does not fit (each
 * part becomes its own piece, so no row attends across a document boundary and no row is padded).
 *
 * <p>With {@code echoProbability > 0}, that fraction of the sequences is emitted with spans of itself repeated
 * later inside it (see {@link #echo}). Such echoes are what a model must learn to exploit context; small
 * models trained briefly on natural text alone barely learn it.
 *
 * <p>The state is just the number of rows produced, so training can resume at the same place.
 */
public final class BatchPacker implements BatchSource {
    /** Tokens per copy drill. */
    static final int DRILL_LENGTH = 2048;
    /** Most spans a drill repeats as one group (so the earlier copy sits up to about 1,000 tokens back). */
    static final int MAX_DRILL_GROUP = 4;

    private final List<long[]> sequences;
    private final int length;
    private final long seed;
    private final double echoProbability;

    private int epoch = -1;
    private int[] order;
    private int nextSequence;
    private long[] current;
    private int offset;
    private long rowsProduced;

    public BatchPacker(List<long[]> sequences, int length, long seed, double echoProbability) {
        this(sequences, length, seed, echoProbability, 0);
    }

    /**
     * @param drillFraction share of the training tokens given to copy drills: short spans of the data in groups,
     *     each group immediately repeated (see {@link #drills}); 0 for none
     */
    public BatchPacker(List<long[]> sequences, int length, long seed, double echoProbability, double drillFraction) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("no training sequences");
        }
        if (length < 2) {
            throw new IllegalArgumentException("rows need at least 2 tokens");
        }
        if (drillFraction < 0 || drillFraction >= 1) {
            throw new IllegalArgumentException("the drill fraction must be in [0, 1)");
        }
        List<long[]> all = new ArrayList<>(sequences);
        all.addAll(drills(sequences, drillFraction, seed));
        this.sequences = List.copyOf(all);
        this.length = length;
        this.seed = seed;
        this.echoProbability = echoProbability;
    }

    /** Rows produced so far (the resume position). */
    @Override
    public long rowsProduced() {
        return rowsProduced;
    }

    /** Completed passes over the data. */
    public int epoch() {
        return Math.max(0, epoch);
    }

    /** Skips rows, to resume where an earlier run stopped. */
    public void skipRows(long rows) {
        for (long i = 0; i < rows; i++) {
            fillRow(new long[length], new long[length], new long[length], 0);
        }
    }

    /** The next batch of {@code rows} rows. */
    @Override
    public PackedBatch next(int rows) {
        long[] tokens = new long[rows * length];
        long[] positions = new long[rows * length];
        long[] segments = new long[rows * length];
        for (int r = 0; r < rows; r++) {
            fillRow(tokens, positions, segments, r * length);
        }
        return new PackedBatch(rows, length, tokens, positions, segments);
    }

    private void fillRow(long[] tokens, long[] positions, long[] segments, int start) {
        int filled = 0;
        int segment = 0;
        while (filled < length) {
            if (current == null || offset >= current.length) {
                current = nextSequence();
                offset = 0;
            }
            int take = Math.min(length - filled, current.length - offset);
            for (int i = 0; i < take; i++) {
                tokens[start + filled + i] = current[offset + i];
                positions[start + filled + i] = i;
                segments[start + filled + i] = segment;
            }
            filled += take;
            offset += take;
            segment++;
        }
        rowsProduced++;
    }

    private long[] nextSequence() {
        if (order == null || nextSequence >= order.length) {
            epoch++;
            order = shuffledOrder(new SplittableRandom(seed * 1_000_003L + epoch));
            nextSequence = 0;
        }
        int index = order[nextSequence++];
        long[] sequence = sequences.get(index);
        if (echoProbability > 0) {
            SplittableRandom random = new SplittableRandom(seed ^ (31L * epoch + index) * 0x9E3779B97F4A7C15L);
            if (random.nextDouble() < echoProbability && sequence.length >= 64) {
                return echo(sequence, random);
            }
        }
        return sequence;
    }

    /**
     * Copy drills worth {@code fraction} of all tokens: each about 2,048 tokens made of groups of one to four
     * spans of the data (32 to 256 tokens each), every group followed at once by a copy of itself
     * ({@code A A B C B C D E F D E F ...}). Half of every drill is free to predict for a model that looks back,
     * which is the quickest way to teach a small model to; grouping the spans puts the earlier occurrence from
     * 32 to about 1,000 tokens back, so that the model learns to copy across the distances that a document
     * window sits from its retrieved context, not only from just before.
     */
    static List<long[]> drills(List<long[]> sequences, double fraction, long seed) {
        List<long[]> drills = new ArrayList<>();
        if (fraction <= 0) {
            return drills;
        }
        long total = 0;
        for (long[] s : sequences) {
            total += s.length;
        }
        long wanted = Math.round(total * fraction / (1 - fraction));
        SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        long made = 0;
        while (made < wanted) {
            long[] drill = new long[DRILL_LENGTH];
            int filled = 0;
            while (drill.length - filled >= 2) {
                // A group no longer than half of what is left, so that its copy fits too.
                int room = (drill.length - filled) / 2;
                int group = 0;
                int spans = 1 + random.nextInt(MAX_DRILL_GROUP);
                for (int i = 0; i < spans && group < room; i++) {
                    long[] source = sequences.get(random.nextInt(sequences.size()));
                    int span = Math.min(Math.min(32 + random.nextInt(225), source.length), room - group);
                    System.arraycopy(source, random.nextInt(source.length - span + 1), drill, filled + group, span);
                    group += span;
                }
                System.arraycopy(drill, filled, drill, filled + group, group);
                filled += 2 * group;
            }
            drill = Arrays.copyOf(drill, filled);
            drills.add(drill);
            made += drill.length;
        }
        return drills;
    }

    /**
     * The sequence with spans of itself repeated: after every 256 to 768 tokens of original text, a copy of a
     * 32 to 256 token span taken from the last 1,024 tokens written so far. About a fifth of the result is
     * then predictable from context, a signal strong enough for a small model to learn copying early.
     */
    static long[] echo(long[] sequence, SplittableRandom random) {
        long[] out = new long[sequence.length * 2];
        int written = 0;
        int read = 0;
        while (read < sequence.length) {
            int gap = Math.min(256 + random.nextInt(513), sequence.length - read);
            System.arraycopy(sequence, read, out, written, gap);
            read += gap;
            written += gap;
            if (read >= sequence.length || written < 64) {
                continue;
            }
            int span = Math.min(32 + random.nextInt(225), written / 2);
            int window = Math.min(written, 1024);
            int from = written - window + random.nextInt(window - span + 1);
            System.arraycopy(out, from, out, written, span);
            written += span;
        }
        return Arrays.copyOf(out, written);
    }

    private int[] shuffledOrder(SplittableRandom random) {
        int[] shuffled = new int[sequences.size()];
        for (int i = 0; i < shuffled.length; i++) {
            shuffled[i] = i;
        }
        for (int i = shuffled.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        return shuffled;
    }
}
