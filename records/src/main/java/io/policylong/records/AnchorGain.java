package io.policylong.records;

import java.io.Serializable;

/**
 * What a context did at one anchor: entropy with the document alone (H), with the context in front (H'),
 * and the information gain {@code (H - H') / H}.
 *
 * @param position anchor token index in the document
 * @param entropy H
 * @param entropyWithContext H'
 * @param gain dI
 * @param windowStart first document token of the window both entropies were computed over
 */
public record AnchorGain(int position, float entropy, float entropyWithContext, float gain, int windowStart)
        implements Serializable {
    private static final long serialVersionUID = 1L;
}
