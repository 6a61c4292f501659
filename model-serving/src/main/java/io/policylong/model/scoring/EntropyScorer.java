package io.policylong.model.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.runtime.DecoderModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Per-token entropy and next-token log-probability of a decoder. Requests are sorted by length and grouped
 * into right-padded forward passes of at most {@code maxBatchTokens} padded tokens (a longer sequence runs
 * alone); the final norm, LM head and entropy run only on the requested positions, in blocks of at most
 * {@link ChunkSettings#entropyBlockBytes()} of logits. Gradient tracking is off while scoring. One forward pass runs
 * at a time per scorer.
 */
public final class EntropyScorer implements BatchScorer {
    private final DecoderModel model;
    private final ChunkSettings chunks;
    private final long maxBatchTokens;

    public EntropyScorer(DecoderModel model, ChunkSettings chunks, long maxBatchTokens) {
        if (maxBatchTokens <= 0) {
            throw new IllegalArgumentException("maxBatchTokens must be positive");
        }
        this.model = model;
        this.chunks = chunks;
        this.maxBatchTokens = maxBatchTokens;
    }

    /** The model being scored. */
    public DecoderModel model() {
        return model;
    }

    /**
     * Checks that a request can be scored by this model: every token id inside the vocabulary.
     *
     * @throws IllegalArgumentException naming the offending token
     */
    public void validate(ScoreRequest request) {
        int vocab = model.config().vocabSize();
        long[] ids = request.tokenIds();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("token " + i + " has id " + ids[i] + ", outside the vocabulary [0, "
                        + vocab + ")");
            }
        }
    }

    @Override
    public List<ScoreResult> score(List<ScoreRequest> requests) {
        requests.forEach(this::validate);
        ScoreResult[] results = new ScoreResult[requests.size()];
        Integer[] order = new Integer[requests.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> requests.get(i).length()).reversed());
        int start = 0;
        while (start < order.length) {
            int longest = requests.get(order[start]).length();
            int end = start + 1;
            while (end < order.length && (long) longest * (end - start + 1) <= maxBatchTokens) {
                end++;
            }
            List<Integer> group = Arrays.asList(order).subList(start, end);
            List<ScoreResult> groupResults = forward(group.stream().map(requests::get).toList());
            for (int j = 0; j < group.size(); j++) {
                results[group.get(j)] = groupResults.get(j);
            }
            start = end;
        }
        return Arrays.asList(results);
    }

    private record EntropyAndLogprob(NDArray entropy, NDArray logprob) {
    }

    /**
     * Entropy and target log-probability of each row of logits {@code [n, vocab]} with a single exponential
     * pass. With {@code s = l - l_max} (the logits shifted by their row maximum) and {@code p = softmax(s)}:
     * {@code H = -log p_max - sum(p * s)} and {@code log p(t) = s_t + log p_max}, because the log-partition
     * of {@code s} is {@code -log p_max}. p_max is at least 1/vocab, so its logarithm is accurate in float32;
     * the shift keeps the dot product free of cancellation when all logits share a large offset. The sum is a
     * batched dot product, so {@code p * s} is never materialised. This costs far less than log-softmax,
     * exp, multiply and sum over the vocabulary, which otherwise rivals the LM head matmul itself.
     */
    private static EntropyAndLogprob entropyAndLogprob(NDArray logits, NDArray targets) {
        long rows = logits.getShape().get(0);
        long vocab = logits.getShape().get(1);
        NDArray argmax = logits.argMax(-1).reshape(rows, 1);
        NDArray shifted = logits.sub(logits.gather(argmax, 1));
        NDArray p = shifted.softmax(-1);
        NDArray logMax = p.gather(argmax, 1).log();
        NDArray expectedShift = p.reshape(rows, 1, vocab).batchMatMul(shifted.reshape(rows, vocab, 1))
                .reshape(rows, 1);
        NDArray entropy = logMax.add(expectedShift).neg().reshape(rows);
        NDArray logprob = shifted.gather(targets, 1).addi(logMax).reshape(rows);
        return new EntropyAndLogprob(entropy, logprob);
    }

    private synchronized List<ScoreResult> forward(List<ScoreRequest> group) {
        if (group.stream().allMatch(r -> r.scoredCount() == 0)) {
            return group.stream().map(r -> new ScoreResult(new int[0], new float[0], new float[0])).toList();
        }
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager manager = model.newBatchManager()) {
            int batch = group.size();
            int length = group.get(0).length();
            long[] padded = new long[batch * length];
            int[] lengths = new int[batch];
            for (int b = 0; b < batch; b++) {
                long[] ids = group.get(b).tokenIds();
                System.arraycopy(ids, 0, padded, b * length, ids.length);
                lengths[b] = ids.length;
            }
            NDArray ids = manager.create(padded, new Shape(batch, length));
            NDArray hidden = model.hiddenStates(ids, lengths, chunks);
            int hiddenSize = model.config().hiddenSize();
            NDArray rows = hidden.reshape((long) batch * length, hiddenSize);

            int total = 0;
            for (ScoreRequest r : group) {
                total += r.scoredCount();
            }
            long[] rowIndex = new long[total];
            long[] targets = new long[total];
            int k = 0;
            for (int b = 0; b < batch; b++) {
                ScoreRequest r = group.get(b);
                for (int i = 0; i < r.scoredCount(); i++, k++) {
                    int p = r.position(i);
                    rowIndex[k] = (long) b * length + p;
                    targets[k] = r.tokenIds()[p + 1];
                }
            }
            float[] entropy = new float[total];
            float[] logprob = new float[total];
            int step = chunks.entropyRows(model.config().vocabSize(), total);
            for (int s = 0; s < total; s += step) {
                int e = Math.min(total, s + step);
                try (NDManager temp = manager.newSubManager()) {
                    NDArray index = temp.create(Arrays.copyOfRange(rowIndex, s, e));
                    NDArray selected = rows.get(index);
                    selected.attach(temp);
                    EntropyAndLogprob scores = entropyAndLogprob(model.logits(selected),
                            temp.create(Arrays.copyOfRange(targets, s, e)).reshape(e - s, 1));
                    System.arraycopy(scores.entropy().toFloatArray(), 0, entropy, s, e - s);
                    System.arraycopy(scores.logprob().toFloatArray(), 0, logprob, s, e - s);
                }
            }
            List<ScoreResult> results = new ArrayList<>(batch);
            int offset = 0;
            for (ScoreRequest r : group) {
                int n = r.scoredCount();
                int[] positions = new int[n];
                for (int i = 0; i < n; i++) {
                    positions[i] = r.position(i);
                }
                results.add(new ScoreResult(positions, Arrays.copyOfRange(entropy, offset, offset + n),
                        Arrays.copyOfRange(logprob, offset, offset + n)));
                offset += n;
            }
            return results;
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }
}
