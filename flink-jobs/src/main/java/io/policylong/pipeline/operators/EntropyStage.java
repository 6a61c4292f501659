package io.policylong.pipeline.operators;

import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.model.tokenizer.TokenizedText;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.scoring.LeasedScoring;
import io.policylong.pipeline.scoring.PolicyScorer;
import io.policylong.pipeline.scoring.RemoteScoring;
import io.policylong.pipeline.scoring.ScoringBackend;
import io.policylong.pipeline.screening.DocumentPieces;
import io.policylong.pipeline.screening.ScoringWindows;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import io.policylong.records.Document;
import java.util.HashMap;
import java.util.Map;
import io.policylong.pipeline.tasks.ScoredDocument;
import io.policylong.pipeline.tasks.ScreeningTask;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Scores the entropy of every token of a document under the task's policy version, through the TaskManager's
 * scoring backend (the model in this JVM, or scoring servers): the document is tokenized with that version's tokenizer (no special tokens), cut into
 * scoring windows with enough left context, and every window is submitted to the version's micro-batcher.
 * Failures never fail the job: they complete the task with a reason (retried by the operator's retry
 * strategy when transient, and sent to the dead letters otherwise).
 */
public final class EntropyStage extends RichAsyncFunction<ScreeningTask, ScoredDocument> {
    private static final long serialVersionUID = 1L;

    private final PipelineConfig config;
    private transient ScoringBackend service;
    private transient LeasedScoring scoring;
    private transient Counter scoredTokens;
    private transient Counter forwardTokens;
    private transient Counter piecesCut;

    public EntropyStage(PipelineConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext context) {
        service = ScoringBackend.acquire(config, GrantedGpus.of(getRuntimeContext()));
        scoring = new LeasedScoring(service, config.scoring().attemptDeadline());
        scoredTokens = getRuntimeContext().getMetricGroup().counter("entropyTokensScored");
        // Tokens through the model for the entropy windows, left context included (document tokens are fewer).
        forwardTokens = getRuntimeContext().getMetricGroup().counter("entropyForwardTokens");
        piecesCut = getRuntimeContext().getMetricGroup().counter("documentPieces");
        if (service instanceof RemoteScoring remote) {
            // The scoring servers as this TaskManager sees them (one client per JVM, so each subtask shows the same).
            var group = getRuntimeContext().getMetricGroup().addGroup("scoringServers");
            group.gauge("down", (Gauge<Integer>) () -> remote.client().serversDown());
            group.gauge("retries", (Gauge<Long>) () -> remote.client().retries());
            group.gauge("requests", (Gauge<Long>) () -> remote.client().requests());
        }
    }

    @Override
    public void close() {
        if (service != null) {
            service.release();
        }
    }

    @Override
    public void asyncInvoke(ScreeningTask task, ResultFuture<ScoredDocument> result) {
        PipelineProgress.screeningStarted(task.storedId(), task.policy().version());
        scoring.run(task, task.policy(), (scorer, submitted) -> score(task, scorer, submitted),
                reason -> ScoredDocument.failedTransiently(task, reason),
                reason -> ScoredDocument.failedTransiently(task, "entropy scoring failed: " + reason), result);
    }

    /**
     * Scores a document, or each piece of one longer than {@code assembly.piece-tokens}: every piece is its own
     * screening (its own id, derived from the document's, tokenized on its own).
     */
    private CompletableFuture<List<ScoredDocument>> score(ScreeningTask task,
            PolicyScorer scorer, List<CompletableFuture<?>> submitted)
            throws InterruptedException {
        CheckpointTokenizer tokenizer = scorer.tokenizer();
        TokenizedText whole = tokenizer.encode(task.document().text(), false);
        int limit = config.input().maxDocumentTokens();
        if (whole.ids().length > limit) {
            return CompletableFuture.completedFuture(List.of(ScoredDocument.failed(task, "document has "
                    + whole.ids().length + " tokens under policy version " + task.policy().version()
                    + ", more than the limit of " + limit)));
        }
        int pieceTokens = config.assembly().pieceTokens();
        if (whole.ids().length <= pieceTokens) {
            return scoreOne(task, whole, scorer, submitted).thenApply(List::of);
        }
        String text = task.document().text();
        List<CompletableFuture<ScoredDocument>> pieces = new ArrayList<>();
        int n = 0;
        for (int[] range : DocumentPieces.ranges(text.length(), whole.starts(), pieceTokens)) {
            Document d = task.document();
            Map<String, String> meta = new HashMap<>(d.meta());
            meta.put("parent", d.id());
            ScreeningTask piece = task.piece(new Document(d.id() + "#piece-" + n++, text.substring(range[0],
                    range[1]), d.source(), meta));
            pieces.add(scoreOne(piece, tokenizer.encode(piece.document().text(), false), scorer, submitted));
        }
        piecesCut.inc(pieces.size());
        return CompletableFuture.allOf(pieces.toArray(new CompletableFuture[0]))
                .thenApply(done -> pieces.stream().map(CompletableFuture::join).toList());
    }

    private CompletableFuture<ScoredDocument> scoreOne(ScreeningTask task, TokenizedText tokenized,
            PolicyScorer scorer, List<CompletableFuture<?>> submitted)
            throws InterruptedException {
        long[] ids = tokenized.ids();
        if (ids.length < 2) {
            return CompletableFuture.completedFuture(ScoredDocument.failed(task, "document has fewer than 2 tokens"));
        }
        float[] entropy = new float[ids.length];
        int[] windowStarts = new int[ids.length];
        entropy[0] = Float.NaN;
        List<ScoringWindows.Window> windows = ScoringWindows.plan(ids.length, config.screening().windowTokens(),
                config.screening().leftContext());
        List<CompletableFuture<ScoreResult>> futures = new ArrayList<>();
        for (ScoringWindows.Window w : windows) {
            int[] positions = new int[w.end() - w.firstScored()];
            for (int i = 0; i < positions.length; i++) {
                // Entropy before document token t is the distribution after window position t - start - 1.
                positions[i] = w.firstScored() - w.start() - 1 + i;
            }
            CompletableFuture<ScoreResult> window = scorer.submit(new ScoreRequest(Arrays.copyOfRange(ids, w.start(),
                    w.end()), positions));
            submitted.add(window);
            futures.add(window);
        }
        return CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).thenApply(done -> {
            for (int k = 0; k < windows.size(); k++) {
                ScoringWindows.Window w = windows.get(k);
                ScoreResult r = futures.get(k).join();
                for (int i = 0; i < r.size(); i++) {
                    int t = w.start() + r.positions()[i] + 1;
                    entropy[t] = r.entropy()[i];
                    windowStarts[t] = w.start();
                }
            }
            scoredTokens.inc(ids.length);
            long forward = 0;
            for (ScoringWindows.Window w : windows) {
                forward += w.end() - w.start();
            }
            forwardTokens.inc(forward);
            PipelineProgress.entropyScored(ids.length, forward);
            return new ScoredDocument(task, ids, tokenized.starts(), tokenized.ends(), entropy, windowStarts, null,
                    false);
        });
    }

    @Override
    public void timeout(ScreeningTask task, ResultFuture<ScoredDocument> result) {
        scoring.abandon(task);
        // Must complete the future, or the operator waits forever.
        result.complete(List.of(ScoredDocument.failed(task, "entropy scoring timed out after "
                + config.scoring().timeout())));
    }

}
