package io.policylong.model.checkpoint;

import java.io.IOException;

/**
 * A checkpoint file (weights, config or tokenizer) that cannot be used. The message always names the
 * file and, where it applies, the tensor or field, and says what is wrong with it.
 */
public class InvalidCheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    public InvalidCheckpointException(String message) {
        super(message);
    }

    public InvalidCheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
