package io.policylong.records;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * One part of a training sample.
 *
 * @param role what the part is
 * @param sourceId the chunk id of a context, or the document id (with a meta-chunk suffix) of document text
 * @param text the part's text
 * @param tokens its length in tokens
 * @param gains for contexts, what they did at the anchors they were verified on; empty for document text
 */
public record SampleSegment(Role role, String sourceId, String text, int tokens, List<AnchorGain> gains)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * The role of a segment: a verified positive or hard negative context, a similarity distractor (a retrieved
     * chunk that was not verified, filling the sample towards its target length; never a positive), or
     * document text.
     */
    public enum Role {
        POSITIVE, HARD_NEGATIVE, DISTRACTOR, DOCUMENT;

        /** The name used in JSON. */
        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public SampleSegment {
        gains = List.copyOf(gains);
    }
}
