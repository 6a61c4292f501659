package io.policylong.trainer.samples;

import io.policylong.records.Anchor;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Turns pipeline samples into training rows, one sample per row. The row is the sample's segments tokenized in
 * order with the separator between them (the sample's own {@code input_ids} when it carries them and they agree
 * in length). A sample longer than {@code maxLength} is cut at segment boundaries: contexts are left out, distractors
 * first, then hard negatives, then positives, last ones first, until it fits; the document is always kept, and only
 * when the document alone is longer is its end cut off. Anchor positions, which count the document's tokens, are
 * mapped to row indices through the document segments.
 */
public final class SampleRows {
    private final Function<String, long[]> encoder;
    private final int maxLength;

    /**
     * @param encoder the checkpoint's tokenizer (text to ids, without special tokens)
     * @param maxLength the longest row
     */
    public SampleRows(Function<String, long[]> encoder, int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("rows need at least 2 tokens, not " + maxLength);
        }
        this.encoder = encoder;
        this.maxLength = maxLength;
    }

    /** The row of a sample. */
    public SampleRow row(TrainingSample sample) {
        List<SampleSegment> segments = sample.segments();
        if (segments.stream().noneMatch(s -> s.role() == SampleSegment.Role.DOCUMENT)) {
            throw new IllegalArgumentException("sample " + sample.sampleId() + " has no document segment");
        }
        long[] separator = encoder.apply(sample.separator());
        List<long[]> pieces = new ArrayList<>();
        for (SampleSegment s : segments) {
            pieces.add(encoder.apply(s.text()));
        }
        long[] own = sample.inputIds();
        if (own != null && own.length == joinedLength(pieces, separator, keepAll(segments.size()))) {
            // The job's own ids of the whole text: split them along the pieces' lengths (separators included).
            int at = 0;
            long[] ownSeparator = null;
            for (int i = 0; i < pieces.size(); i++) {
                int n = pieces.get(i).length;
                pieces.set(i, Arrays.copyOfRange(own, at, at + n));
                at += n;
                if (i + 1 < pieces.size()) {
                    ownSeparator = Arrays.copyOfRange(own, at, at + separator.length);
                    at += separator.length;
                }
            }
            separator = ownSeparator == null ? separator : ownSeparator;
        }
        boolean[] keep = keepAll(segments.size());
        boolean cut = false;
        for (SampleSegment.Role role : List.of(SampleSegment.Role.DISTRACTOR, SampleSegment.Role.HARD_NEGATIVE,
                SampleSegment.Role.POSITIVE)) {
            for (int i = segments.size() - 1; i >= 0 && joinedLength(pieces, separator, keep) > maxLength; i--) {
                if (segments.get(i).role() == role) {
                    keep[i] = false;
                    cut = true;
                }
            }
        }
        long[] tokens = new long[joinedLength(pieces, separator, keep)];
        List<int[]> documentSpans = new ArrayList<>();
        int at = 0;
        boolean first = true;
        for (int i = 0; i < pieces.size(); i++) {
            if (!keep[i]) {
                continue;
            }
            if (!first) {
                System.arraycopy(separator, 0, tokens, at, separator.length);
                at += separator.length;
            }
            first = false;
            long[] piece = pieces.get(i);
            System.arraycopy(piece, 0, tokens, at, piece.length);
            if (segments.get(i).role() == SampleSegment.Role.DOCUMENT) {
                documentSpans.add(new int[] {at, piece.length});
            }
            at += piece.length;
        }
        if (tokens.length > maxLength) {
            tokens = Arrays.copyOf(tokens, maxLength);
            cut = true;
        }
        return new SampleRow(sample.sampleId(), sample.policyVersion(), tokens,
                anchorIndices(sample.anchors(), documentSpans, tokens.length), cut);
    }

    /** Row indices of the anchors: the document's k-th token is found by walking its segments in order. */
    private static int[] anchorIndices(List<Anchor> anchors, List<int[]> documentSpans, int rowLength) {
        List<Integer> indices = new ArrayList<>();
        for (Anchor a : anchors) {
            int k = a.position();
            for (int[] span : documentSpans) {
                if (k < span[1]) {
                    int index = span[0] + k;
                    if (index < rowLength) {
                        indices.add(index);
                    }
                    break;
                }
                k -= span[1];
            }
        }
        return indices.stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
    }

    private static boolean[] keepAll(int n) {
        boolean[] keep = new boolean[n];
        Arrays.fill(keep, true);
        return keep;
    }

    private static int joinedLength(List<long[]> pieces, long[] separator, boolean[] keep) {
        int length = 0;
        int kept = 0;
        for (int i = 0; i < pieces.size(); i++) {
            if (keep[i]) {
                length += pieces.get(i).length;
                kept++;
            }
        }
        return length + Math.max(0, kept - 1) * separator.length;
    }
}
