package io.policylong.model.scoring;

import ai.djl.Device;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.ComputePrecision;
import io.policylong.model.runtime.DecoderModel;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A checkpoint ready to score: its configuration, tokenizer (when the directory has one) and decoder on a
 * device, with an {@link EntropyScorer} over it and, on first use, a {@link MicroBatcher} in front of that
 * for callers that submit one sequence at a time. Closing it stops the batcher and frees the weights.
 */
public final class LoadedCheckpoint implements AutoCloseable {
    private final Path directory;
    private final DecoderModel model;
    private final CheckpointTokenizer tokenizer;
    private final EntropyScorer scorer;
    private MicroBatcher batcher;

    private LoadedCheckpoint(Path directory, DecoderModel model, CheckpointTokenizer tokenizer,
            EntropyScorer scorer) {
        this.directory = directory;
        this.model = model;
        this.tokenizer = tokenizer;
        this.scorer = scorer;
    }

    /**
     * Loads a checkpoint directory. The tokenizer is optional ({@code tokenizer.json} absent: token ids only).
     */
    public static LoadedCheckpoint load(Path directory, Device device, ChunkSettings chunks, long maxBatchTokens)
            throws IOException {
        return load(directory, device, chunks, maxBatchTokens, ComputePrecision.FLOAT32);
    }

    /** Loads a checkpoint directory to run its forward pass in {@code precision} (entropy and log-probs in float32). */
    public static LoadedCheckpoint load(Path directory, Device device, ChunkSettings chunks, long maxBatchTokens,
            ComputePrecision precision) throws IOException {
        ModelConfig config = ModelConfig.load(directory);
        CheckpointTokenizer tokenizer = null;
        if (Files.exists(directory.resolve(CheckpointTokenizer.FILE_NAME))) {
            tokenizer = CheckpointTokenizer.load(directory);
        }
        try {
            DecoderModel model = DecoderModel.load(directory, config, device, precision);
            return new LoadedCheckpoint(directory, model, tokenizer, new EntropyScorer(model, chunks, maxBatchTokens));
        } catch (IOException | RuntimeException | Error e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            throw e;
        }
    }

    /** The checkpoint directory. */
    public Path directory() {
        return directory;
    }

    /** The model configuration. */
    public ModelConfig config() {
        return model.config();
    }

    /** The decoder. */
    public DecoderModel model() {
        return model;
    }

    /** The scorer over the decoder. */
    public EntropyScorer scorer() {
        return scorer;
    }

    /**
     * The micro-batcher of this checkpoint, started on first use with the given settings (later calls return
     * the same batcher).
     */
    public synchronized MicroBatcher batcher(BatchingSettings settings) {
        if (batcher == null) {
            batcher = new MicroBatcher(scorer, scorer::validate, settings.maxBatchTokens(), settings.maxDelay(),
                    settings.queueCapacity(), "batcher-" + directory.getFileName());
        }
        return batcher;
    }

    /** Whether the checkpoint has a tokenizer. */
    public boolean hasTokenizer() {
        return tokenizer != null;
    }

    /**
     * The tokenizer.
     *
     * @throws IllegalStateException when the checkpoint has none
     */
    public CheckpointTokenizer tokenizer() {
        if (tokenizer == null) {
            throw new IllegalStateException(directory + " has no " + CheckpointTokenizer.FILE_NAME);
        }
        return tokenizer;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (batcher != null) {
                batcher.close();
            }
        }
        model.close();
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
