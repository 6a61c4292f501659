package io.policylong.pipeline.screening;

import io.policylong.records.Anchor;
import io.policylong.records.AnchorGain;

/**
 * The relative entropy reduction a context brings at an anchor: {@code dI = (H - H') / H}, where H is the
 * entropy with the document alone and H' with the context in front. 1 means the context removes all doubt,
 * 0 means no effect, negative means it confuses the model.
 */
public final class InformationGain {
    private InformationGain() {
    }

    /** The gain a context brought at an anchor, given the anchor's entropy with the context in front. */
    public static AnchorGain at(Anchor anchor, float entropyWithContext) {
        return new AnchorGain(anchor.position(), anchor.entropy(), entropyWithContext,
                of(anchor.entropy(), entropyWithContext), anchor.windowStart());
    }

    /** dI for one anchor; 0 when H is not positive (an anchor with no uncertainty to reduce). */
    public static float of(float entropy, float entropyWithContext) {
        if (!(entropy > 0)) {
            return 0f;
        }
        return (entropy - entropyWithContext) / entropy;
    }
}
