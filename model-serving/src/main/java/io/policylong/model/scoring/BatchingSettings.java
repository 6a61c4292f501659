package io.policylong.model.scoring;

import java.time.Duration;

/**
 * How requests to one loaded checkpoint are batched.
 *
 * @param maxBatchTokens tokens per batch (and padded tokens per forward pass)
 * @param maxDelay longest a request waits for others
 * @param queueCapacity requests that may wait before submitters block
 */
public record BatchingSettings(long maxBatchTokens, Duration maxDelay, int queueCapacity) {

    /** 8,192 tokens, 20 ms, 256 requests. */
    public static final BatchingSettings DEFAULT = new BatchingSettings(8192, Duration.ofMillis(20), 256);

    public BatchingSettings {
        if (maxBatchTokens < 1 || queueCapacity < 1 || maxDelay.isNegative()) {
            throw new IllegalArgumentException("batch tokens and queue capacity must be positive, the delay >= 0");
        }
    }
}
