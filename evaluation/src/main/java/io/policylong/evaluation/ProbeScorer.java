package io.policylong.evaluation;

import io.policylong.model.scoring.EntropyScorer;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.model.scoring.TokenPredictor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Scores probes with a checkpoint two ways: teacher-forced (the log-probability of the answer after the prompt and
 * after the control prompt, and the rank of the answer's first token), which says something even for small models,
 * and, optionally, greedy decoding with RULER's string-match-all. Prompt and answer are tokenized separately and
 * joined, as the answer is the prompt's continuation.
 */
public final class ProbeScorer {
    private final EntropyScorer scorer;
    private final TokenPredictor predictor;
    private final Function<String, long[]> encode;
    private final Function<long[], String> decode;
    private final boolean greedy;

    /**
     * @param encode the checkpoint's tokenizer (text to ids, no special tokens)
     * @param decode ids back to text
     * @param greedy whether to decode an answer greedily too (one forward pass per generated token)
     */
    public ProbeScorer(EntropyScorer scorer, TokenPredictor predictor, Function<String, long[]> encode,
            Function<long[], String> decode, boolean greedy) {
        this.scorer = scorer;
        this.predictor = predictor;
        this.encode = encode;
        this.decode = decode;
        this.greedy = greedy;
    }

    /** The scorer of a loaded checkpoint, through its tokenizer (no special tokens). */
    public static ProbeScorer of(io.policylong.model.scoring.LoadedCheckpoint checkpoint,
            io.policylong.model.runtime.ChunkSettings chunks, boolean greedy) {
        var tokenizer = checkpoint.tokenizer();
        return new ProbeScorer(checkpoint.scorer(), new TokenPredictor(checkpoint.model(), chunks),
                text -> tokenizer.encodeIds(text, false), tokenizer::decode, greedy);
    }

    /** The results of these probes, in order; their teacher-forced passes are batched together. */
    public List<ProbeResult> score(List<Probe> probes) {
        List<ScoreRequest> requests = new ArrayList<>();
        List<long[]> prompts = new ArrayList<>();
        List<long[]> targets = new ArrayList<>();
        for (Probe p : probes) {
            long[] prompt = encode.apply(p.prompt());
            long[] control = encode.apply(p.controlPrompt());
            long[] target = encode.apply(p.target());
            prompts.add(prompt);
            targets.add(target);
            requests.add(answerRequest(prompt, target));
            requests.add(answerRequest(control, target));
        }
        List<ScoreResult> scores = scorer.score(requests);
        List<ProbeResult> results = new ArrayList<>();
        for (int i = 0; i < probes.size(); i++) {
            Probe p = probes.get(i);
            long[] prompt = prompts.get(i);
            long[] target = targets.get(i);
            try (TokenPredictor.Continuation prompted = predictor.start(prompt)) {
                // The rank of the answer's first token that says something: not the blank before it.
                int k = 0;
                while (k < target.length - 1 && decode.apply(new long[] {target[k]}).isBlank()) {
                    k++;
                }
                float[] first = prompted.logits();
                String output = null;
                double match = Double.NaN;
                if (greedy) {
                    output = decode.apply(continuation(prompted, target.length + 8));
                    match = matchAll(output, p.answers());
                }
                float[] atAnswer = first;
                if (k > 0) {
                    prompted.truncate(prompt.length);
                    atAnswer = prompted.append(Arrays.copyOf(target, k));
                }
                results.add(new ProbeResult(p.task(), p.length(), p.index(), prompt.length, target.length,
                        sum(scores.get(2 * i)), sum(scores.get(2 * i + 1)), TokenPredictor.rank(atAnswer, target[k]),
                        output, match));
            }
        }
        return results;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] ids = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, ids, a.length, b.length);
        return ids;
    }

    /** The sequence prompt + target, scored at the positions that predict the target's tokens. */
    static ScoreRequest answerRequest(long[] prompt, long[] target) {
        long[] ids = concat(prompt, target);
        int[] positions = new int[target.length];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = prompt.length - 1 + i;
        }
        return new ScoreRequest(ids, positions);
    }

    private static double sum(ScoreResult result) {
        double total = 0;
        for (float l : result.logprob()) {
            total += l;
        }
        return total;
    }

    /** Greedy tokens after the prompt, up to a line break; each runs alone after the prompt's keys and values. */
    private long[] continuation(TokenPredictor.Continuation prompted, int maxTokens) {
        long[] out = new long[maxTokens];
        int n = 0;
        float[] logits = prompted.logits();
        while (n < maxTokens) {
            long next = TokenPredictor.argmax(logits);
            out[n++] = next;
            if (decode.apply(new long[] {next}).contains("\n") || n == maxTokens) {
                break;
            }
            logits = prompted.append(next);
        }
        return Arrays.copyOf(out, n);
    }

    /** RULER's string-match-all: the share of the answers that occur in the output, ignoring case. */
    static double matchAll(String output, List<String> answers) {
        String lower = output.toLowerCase(Locale.ROOT);
        long found = answers.stream().filter(a -> lower.contains(a.toLowerCase(Locale.ROOT))).count();
        return (double) found / answers.size();
    }
}
