package io.policylong.connectors.records;

import java.io.Serializable;
import java.util.List;

/**
 * A training sample: segments in order (contexts and document text), joined by the separator. Its JSON form
 * (one object per line of the samples output) carries everything needed to recompute every H, H' and dI it
 * reports with the same checkpoint (see {@link #toJson()}).
 *
 * @param sampleId stable id: the same document screened under the same version always gives the same id
 * @param documentId the document
 * @param policyVersion the checkpoint version that screened it
 * @param layout how the segments are arranged
 * @param tokens total length in tokens, separators included
 * @param separator text between segments
 * @param segments the parts in order
 * @param anchors the document's anchors
 * @param inputIds token ids of the whole sample, or null when not requested
 */
public record TrainingSample(String sampleId, String documentId, long policyVersion, SampleLayout layout, int tokens,
        String separator, List<SampleSegment> segments, List<Anchor> anchors, long[] inputIds) implements Serializable {
    private static final long serialVersionUID = 1L;

    public TrainingSample {
        segments = List.copyOf(segments);
        anchors = List.copyOf(anchors);
    }

    /** The same sample with the token ids of its whole text (and the exact length they give). */
    public TrainingSample withInputIds(long[] ids) {
        return new TrainingSample(sampleId, documentId, policyVersion, layout, ids.length, separator, segments, anchors,
                ids.clone());
    }

    /** The whole sample as text. */
    public String text() {
        StringBuilder b = new StringBuilder();
        for (SampleSegment s : segments) {
            if (b.length() > 0) {
                b.append(separator);
            }
            b.append(s.text());
        }
        return b.toString();
    }
}
