package io.policylong.pipeline.operators;

import io.policylong.records.Anchor;
import io.policylong.records.AnchorGain;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.scoring.LeasedScoring;
import io.policylong.pipeline.scoring.PolicyScorer;
import io.policylong.pipeline.scoring.ScoringBackend;
import io.policylong.pipeline.screening.Candidate;
import io.policylong.pipeline.screening.InformationGain;
import io.policylong.pipeline.screening.VerifiedContext;
import io.policylong.pipeline.tasks.RetrievedDocument;
import io.policylong.pipeline.tasks.VerifiedDocument;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Verification: for each candidate, one forward pass of the same policy over
 * {@code [candidate ; separator ; document from the anchors' scoring window start up to the last anchor the
 * candidate serves]} (candidate, separator and document tokenized on their own, no special tokens), reading
 * the entropy H' before each served anchor; with H from the entropy stage that gives
 * {@code dI = (H - H') / H} per anchor. Only the anchor positions go through the LM head.
 */
public final class VerificationStage extends RichAsyncFunction<RetrievedDocument, VerifiedDocument> {
    private static final long serialVersionUID = 1L;

    private final PipelineConfig config;
    private transient ScoringBackend service;
    private transient LeasedScoring scoring;
    private transient Counter verified;
    private transient Counter verifiedTokens;

    public VerificationStage(PipelineConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext context) {
        service = ScoringBackend.acquire(config, GrantedGpus.of(getRuntimeContext()));
        scoring = new LeasedScoring(service, config.scoring().attemptDeadline());
        verified = getRuntimeContext().getMetricGroup().counter("candidatesVerified");
        verifiedTokens = getRuntimeContext().getMetricGroup().counter("verificationTokensScored");
    }

    @Override
    public void close() {
        if (service != null) {
            service.release();
        }
    }

    @Override
    public void asyncInvoke(RetrievedDocument document, ResultFuture<VerifiedDocument> result) {
        PipelineProgress.screeningStarted(document.scored().task().storedId(),
                document.scored().task().policy().version());
        scoring.run(document, document.scored().task().policy(),
                (scorer, submitted) -> verify(document, scorer, submitted).thenApply(List::of),
                reason -> VerifiedDocument.failedTransiently(document, reason),
                reason -> VerifiedDocument.failedTransiently(document, "verification failed: " + reason), result);
    }

    /** One request per candidate and scoring window of its anchors. */
    private record Request(int candidate, List<Anchor> anchors, int offset, CompletableFuture<ScoreResult> future) {
    }

    private CompletableFuture<VerifiedDocument> verify(RetrievedDocument document,
            PolicyScorer scorer, List<CompletableFuture<?>> submitted)
            throws InterruptedException {
        CheckpointTokenizer tokenizer = scorer.tokenizer();
        long[] separator = tokenizer.encodeIds(config.assembly().separator(), false);
        // Distractors are not verified: they only need their length under this policy's tokenizer.
        List<VerifiedContext> distractors = new ArrayList<>();
        for (Candidate d : document.distractors()) {
            distractors.add(new VerifiedContext(d, tokenizer.encodeIds(d.text(), false).length, List.of()));
        }
        long[] documentTokens = document.scored().tokens();
        List<Candidate> candidates = document.candidates();
        int[] candidateTokens = new int[candidates.size()];
        List<Request> requests = new ArrayList<>();
        for (int c = 0; c < candidates.size(); c++) {
            Candidate candidate = candidates.get(c);
            long[] context = tokenizer.encodeIds(candidate.text(), false);
            candidateTokens[c] = context.length;
            Map<Integer, List<Anchor>> byWindow = new TreeMap<>();
            for (Anchor a : candidate.anchors()) {
                byWindow.computeIfAbsent(a.windowStart(), k -> new ArrayList<>()).add(a);
            }
            for (Map.Entry<Integer, List<Anchor>> e : byWindow.entrySet()) {
                int windowStart = e.getKey();
                List<Anchor> anchors = e.getValue();
                int last = anchors.get(anchors.size() - 1).position();
                int prefix = context.length + separator.length;
                long[] sequence = new long[prefix + last - windowStart + 1];
                System.arraycopy(context, 0, sequence, 0, context.length);
                System.arraycopy(separator, 0, sequence, context.length, separator.length);
                System.arraycopy(documentTokens, windowStart, sequence, prefix, last - windowStart + 1);
                int offset = prefix - windowStart;
                int[] positions = new int[anchors.size()];
                for (int i = 0; i < positions.length; i++) {
                    // Entropy before anchor token t sits at the position just before it in the sequence.
                    positions[i] = offset + anchors.get(i).position() - 1;
                }
                verifiedTokens.inc(sequence.length);
                PipelineProgress.verified(sequence.length);
                CompletableFuture<ScoreResult> pass = scorer.submit(new ScoreRequest(sequence, positions));
                submitted.add(pass);
                requests.add(new Request(c, anchors, offset, pass));
            }
        }
        return CompletableFuture.allOf(requests.stream().map(Request::future).toArray(CompletableFuture[]::new))
                .thenApply(done -> {
                    List<List<AnchorGain>> gains = new ArrayList<>();
                    for (int c = 0; c < candidates.size(); c++) {
                        gains.add(new ArrayList<>());
                    }
                    for (Request r : requests) {
                        ScoreResult scores = r.future().join();
                        for (int i = 0; i < r.anchors().size(); i++) {
                            gains.get(r.candidate()).add(InformationGain.at(r.anchors().get(i), scores.entropy()[i]));
                        }
                    }
                    List<VerifiedContext> contexts = new ArrayList<>();
                    for (int c = 0; c < candidates.size(); c++) {
                        contexts.add(new VerifiedContext(candidates.get(c), candidateTokens[c], gains.get(c)));
                    }
                    verified.inc(candidates.size());
                    return new VerifiedDocument(document, contexts, separator.length, distractors);
                });
    }

    @Override
    public void timeout(RetrievedDocument document, ResultFuture<VerifiedDocument> result) {
        scoring.abandon(document);
        result.complete(List.of(VerifiedDocument.failed(document, "verification timed out after "
                + config.scoring().timeout())));
    }
}
