package io.policylong.pipeline.screening;

import java.io.Serializable;
import java.util.List;

/**
 * A training sample: segments in order (contexts and document text), joined by the separator.
 *
 * @param sampleId stable id: the same document screened under the same version always gives the same id
 * @param documentId the document
 * @param policyVersion the checkpoint version that screened it
 * @param layout how the segments are arranged
 * @param tokens total length in tokens, separators included
 * @param separator text between segments
 * @param segments the parts in order
 * @param anchors the document's anchors
 */
public record AssembledSample(String sampleId, String documentId, long policyVersion, SampleLayout layout, int tokens,
        String separator, List<Segment> segments, List<Anchor> anchors) implements Serializable {
    private static final long serialVersionUID = 1L;

    public AssembledSample {
        segments = List.copyOf(segments);
        anchors = List.copyOf(anchors);
    }

    /** The whole sample as text. */
    public String text() {
        StringBuilder b = new StringBuilder();
        for (Segment s : segments) {
            if (b.length() > 0) {
                b.append(separator);
            }
            b.append(s.text());
        }
        return b.toString();
    }
}
