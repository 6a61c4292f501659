package io.policylong.pipeline.tasks;

import io.policylong.records.PolicyUpdate;
import java.io.Serializable;

/**
 * The policy a task is screened under, as stamped on the task by the scheduler: the async operators cannot
 * read broadcast state, so the version travels with the work.
 *
 * @param version policy version
 * @param uri checkpoint directory URI
 * @param sha256 announced weights digest, or null
 */
public record PolicyRef(long version, String uri, String sha256) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The reference of an accepted update. */
    public static PolicyRef of(PolicyUpdate update) {
        return new PolicyRef(update.version(), update.uri(), update.sha256());
    }
}
