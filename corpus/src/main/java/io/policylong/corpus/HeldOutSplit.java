package io.policylong.corpus;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A deterministic train/held-out split by document id: an id is held out when the first bytes of its SHA-256
 * fall below the fraction. The same id is always on the same side, whatever else the corpus contains.
 */
public final class HeldOutSplit {
    /** The fraction the corpus command holds out unless told otherwise. */
    public static final double DEFAULT_FRACTION = 0.03;

    private final double fraction;

    public HeldOutSplit(double fraction) {
        if (fraction < 0 || fraction > 1) {
            throw new IllegalArgumentException("held-out fraction must be in [0, 1], got " + fraction);
        }
        this.fraction = fraction;
    }

    /** Whether the document with this id is held out. */
    public boolean isHeldOut(String id) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            long value = 0;
            for (int i = 0; i < 6; i++) {
                value = (value << 8) | (digest[i] & 0xFF);
            }
            return value < fraction * (1L << 48);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
