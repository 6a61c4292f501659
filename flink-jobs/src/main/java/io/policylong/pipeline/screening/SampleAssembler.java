package io.policylong.pipeline.screening;

import io.policylong.text.TextChunks;
import io.policylong.records.Anchor;
import io.policylong.records.AnchorGain;
import io.policylong.records.SampleLayout;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Builds a training sample of about {@code targetTokens} tokens from a document and its classified contexts,
 * with the document last so that every dependency on a context is long-range.
 *
 * <ul>
 *   <li>{@link SampleLayout#SHUFFLE}: positives, then hard negatives, are taken by retrieval score while they
 *       fit; the chosen contexts go in random order (seeded by the sample id), then the document.
 *   <li>{@link SampleLayout#INTERLEAVE}: positives first, then the document in meta-chunks of about
 *       {@code metaChunkChars} characters, each followed by the hard negatives found for its anchors;
 *       hard negatives are taken by retrieval score while they fit.
 * </ul>
 * A context that does not fit is left out whole (samples are cut only at segment boundaries, never inside
 * one). A sample whose length stays under {@code minFill} of the target is not made: it is counted and
 * dropped rather than padded with filler.
 */
public final class SampleAssembler {
    /** What the assembler needs to know about the document. */
    public record DocumentInput(String id, String text, int tokens, int[] tokenStarts, List<Anchor> anchors) {
    }

    private final SampleLayout layout;
    private final int targetTokens;
    private final double minFill;
    private final String separator;
    private final int separatorTokens;
    private final int metaChunkChars;

    public SampleAssembler(SampleLayout layout, int targetTokens, double minFill, String separator, int separatorTokens,
            int metaChunkChars) {
        if (targetTokens < 1 || minFill < 0 || minFill > 1 || separatorTokens < 0 || metaChunkChars < 1) {
            throw new IllegalArgumentException("target > 0, min fill in [0, 1], separator tokens >= 0 and meta-chunk "
                    + "size > 0 are required");
        }
        this.layout = layout;
        this.targetTokens = targetTokens;
        this.minFill = minFill;
        this.separator = separator;
        this.separatorTokens = separatorTokens;
        this.metaChunkChars = metaChunkChars;
    }

    /**
     * The id of a document's sample under a version: stable (the same document, id and text, screened under the
     * same version always gets the same id, so a replayed screening writes the same sample) and different when
     * the text of an id changes.
     */
    public static String sampleId(String documentId, long version, String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((documentId + "\u0000" + version + "\u0000" + text).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * The sample, or empty when it cannot reach the minimum fill (or the document alone exceeds the target).
     */
    public Optional<TrainingSample> assemble(DocumentInput document, long version,
            ContextClassifier.Classification contexts) {
        return assemble(document, version, contexts, List.of());
    }

    /**
     * The sample, filled after its positives and hard negatives with {@code distractors} (retrieved chunks that
     * were not verified, in their retrieval order) as far as they fit the target; or empty when it cannot reach
     * the minimum fill (or the document alone exceeds the target).
     */
    public Optional<TrainingSample> assemble(DocumentInput document, long version,
            ContextClassifier.Classification contexts, List<VerifiedContext> distractors) {
        String id = sampleId(document.id(), version, document.text());
        List<SampleSegment> segments = layout == SampleLayout.SHUFFLE
                ? shuffle(document, contexts, distractors, id)
                : interleave(document, contexts, distractors);
        if (segments == null) {
            return Optional.empty();
        }
        int total = length(segments);
        if (total < minFill * targetTokens) {
            return Optional.empty();
        }
        return Optional.of(new TrainingSample(id, document.id(), version, layout, total, separator, segments,
                document.anchors(), null));
    }

    private int length(List<SampleSegment> segments) {
        int total = 0;
        for (SampleSegment s : segments) {
            total += s.tokens();
        }
        return total + Math.max(0, segments.size() - 1) * separatorTokens;
    }

    private List<SampleSegment> shuffle(DocumentInput document, ContextClassifier.Classification contexts,
            List<VerifiedContext> distractors, String id) {
        int used = document.tokens();
        if (used > targetTokens) {
            return null;
        }
        List<SampleSegment> chosen = new ArrayList<>();
        for (VerifiedContext c : contexts.positives()) {
            used = take(c, SampleSegment.Role.POSITIVE, used, chosen);
        }
        for (VerifiedContext c : contexts.hardNegatives()) {
            used = take(c, SampleSegment.Role.HARD_NEGATIVE, used, chosen);
        }
        for (VerifiedContext c : distractors) {
            used = take(c, SampleSegment.Role.DISTRACTOR, used, chosen);
        }
        Collections.shuffle(chosen, new Random(Long.parseUnsignedLong(id.substring(0, 15), 16)));
        chosen.add(new SampleSegment(SampleSegment.Role.DOCUMENT, document.id(), document.text(), document.tokens(), List.of()));
        return chosen;
    }

    /** Adds the context when it fits; returns the new length. */
    private int take(VerifiedContext c, SampleSegment.Role role, int used, List<SampleSegment> chosen) {
        int needed = c.tokens() + separatorTokens;
        if (used + needed > targetTokens) {
            return used;
        }
        chosen.add(segment(c, role));
        return used + needed;
    }

    private static SampleSegment segment(VerifiedContext c, SampleSegment.Role role) {
        return new SampleSegment(role, c.candidate().chunkId(), c.candidate().text(), c.tokens(), c.gains());
    }

    private List<SampleSegment> interleave(DocumentInput document, ContextClassifier.Classification contexts,
            List<VerifiedContext> distractors) {
        List<int[]> ranges = TextChunks.split(document.text(), metaChunkChars);
        int[] chunkTokens = new int[ranges.size()];
        int[] chunkOfToken = new int[document.tokens()];
        for (int t = 0; t < document.tokens(); t++) {
            int start = t < document.tokenStarts().length ? document.tokenStarts()[t] : -1;
            int chunk = start < 0 ? 0 : chunkIndex(ranges, start);
            chunkOfToken[t] = chunk;
            chunkTokens[chunk]++;
        }
        int used = document.tokens() + (ranges.size() - 1) * separatorTokens;
        if (used > targetTokens) {
            return null;
        }
        List<SampleSegment> positives = new ArrayList<>();
        for (VerifiedContext c : contexts.positives()) {
            used = take(c, SampleSegment.Role.POSITIVE, used, positives);
        }
        List<List<SampleSegment>> negativesByChunk = new ArrayList<>();
        for (int i = 0; i < ranges.size(); i++) {
            negativesByChunk.add(new ArrayList<>());
        }
        for (VerifiedContext c : contexts.hardNegatives()) {
            int needed = c.tokens() + separatorTokens;
            if (used + needed > targetTokens) {
                continue;
            }
            int chunk = ranges.size() - 1;
            for (AnchorGain g : c.gains()) {
                if (g.position() < chunkOfToken.length) {
                    chunk = Math.min(chunk, chunkOfToken[g.position()]);
                }
            }
            negativesByChunk.get(chunk).add(segment(c, SampleSegment.Role.HARD_NEGATIVE));
            used += needed;
        }
        // Distractors fill what is left, spread over the meta-chunks in turn (they serve no particular text).
        int turn = 0;
        for (VerifiedContext c : distractors) {
            int needed = c.tokens() + separatorTokens;
            if (used + needed > targetTokens) {
                continue;
            }
            negativesByChunk.get(turn++ % ranges.size()).add(segment(c, SampleSegment.Role.DISTRACTOR));
            used += needed;
        }
        List<SampleSegment> segments = new ArrayList<>(positives);
        for (int i = 0; i < ranges.size(); i++) {
            // Contexts come before the text they serve, so the sample always ends with document text.
            segments.addAll(negativesByChunk.get(i));
            int[] r = ranges.get(i);
            segments.add(new SampleSegment(SampleSegment.Role.DOCUMENT, document.id() + "#" + i,
                    document.text().substring(r[0], r[1]), chunkTokens[i], List.of()));
        }
        return segments;
    }

    private static int chunkIndex(List<int[]> ranges, int charOffset) {
        for (int i = 0; i < ranges.size(); i++) {
            if (charOffset < ranges.get(i)[1]) {
                return i;
            }
        }
        return ranges.size() - 1;
    }
}
