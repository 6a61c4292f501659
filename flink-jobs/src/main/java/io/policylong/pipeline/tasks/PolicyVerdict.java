package io.policylong.pipeline.tasks;

import io.policylong.records.PolicyUpdate;
import java.io.Serializable;

/**
 * The outcome of validating a policy update once, before it is broadcast.
 *
 * @param update the update
 * @param rejection why it was rejected, or null when its checkpoint is valid
 */
public record PolicyVerdict(PolicyUpdate update, String rejection) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A valid update. */
    public static PolicyVerdict accepted(PolicyUpdate update) {
        return new PolicyVerdict(update, null);
    }

    /** A rejected update. */
    public static PolicyVerdict rejected(PolicyUpdate update, String reason) {
        return new PolicyVerdict(update, reason);
    }
}
