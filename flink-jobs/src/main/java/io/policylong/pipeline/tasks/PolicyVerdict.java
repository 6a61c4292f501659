package io.policylong.pipeline.tasks;

import io.policylong.records.PolicyUpdate;
import java.io.Serializable;

/**
 * The outcome of validating a policy update once, before it is broadcast.
 *
 * @param update the update
 * @param outcome what became of it
 * @param reason why it was rejected or superseded, or null when accepted
 */
public record PolicyVerdict(PolicyUpdate update, Outcome outcome, String reason) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** What became of an update. */
    public enum Outcome {
        /** Its checkpoint is valid. */
        ACCEPTED,
        /** Its checkpoint is not valid; the reason says why. */
        REJECTED,
        /**
         * A newer announcement arrived before this one was validated (a replayed policy topic, or announcements
         * in quick succession): it was skipped, since versions only move forward.
         */
        SUPERSEDED
    }

    /** A valid update. */
    public static PolicyVerdict accepted(PolicyUpdate update) {
        return new PolicyVerdict(update, Outcome.ACCEPTED, null);
    }

    /** A rejected update. */
    public static PolicyVerdict rejected(PolicyUpdate update, String reason) {
        return new PolicyVerdict(update, Outcome.REJECTED, reason);
    }

    /** An update skipped for a newer one. */
    public static PolicyVerdict superseded(PolicyUpdate update, long newer) {
        return new PolicyVerdict(update, Outcome.SUPERSEDED, "superseded by version " + newer
                + " before it was validated");
    }
}
