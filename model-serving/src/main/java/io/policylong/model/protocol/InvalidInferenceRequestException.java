package io.policylong.model.protocol;

/** An inference request that cannot be scored as sent; the message names the field and the problem. */
public final class InvalidInferenceRequestException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidInferenceRequestException(String message) {
        super(message);
    }
}
