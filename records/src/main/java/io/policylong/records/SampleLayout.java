package io.policylong.records;

import java.util.Locale;

/** How contexts and the document are arranged in a training sample. */
public enum SampleLayout {
    /** All chosen contexts in random order, then the whole document. */
    SHUFFLE,
    /** Positives first, then the document in meta-chunks, each followed by the hard negatives found for it. */
    INTERLEAVE;

    /** The name used in configuration and JSON. */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The layout of a configuration or JSON name. */
    public static SampleLayout fromName(String name) {
        for (SampleLayout l : values()) {
            if (l.jsonName().equals(name)) {
                return l;
            }
        }
        throw new IllegalArgumentException("unknown layout '" + name + "' (shuffle or interleave)");
    }
}
