package io.policylong.pipeline.scoring;

import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import java.util.concurrent.CompletableFuture;

/**
 * What a scoring stage holds while it works on one document under one policy version: that version's tokenizer and
 * a way to score token sequences with its model, in this JVM or on a scoring server. Closing it gives the hold up.
 */
public interface PolicyScorer extends AutoCloseable {
    /** The policy version. */
    long version();

    /** The version's tokenizer. */
    CheckpointTokenizer tokenizer();

    /**
     * Scores a sequence; blocks while too many requests are waiting (back-pressure). Cancelling the future gives
     * the request up (it is dropped unscored if it has not started).
     */
    CompletableFuture<ScoreResult> submit(ScoreRequest request) throws InterruptedException;

    @Override
    void close();
}
