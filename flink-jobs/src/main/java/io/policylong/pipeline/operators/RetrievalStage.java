package io.policylong.pipeline.operators;

import io.policylong.records.Anchor;
import io.policylong.records.DeadLetter;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.retrieval.ChunkHit;
import io.policylong.pipeline.retrieval.ChunkIndex;
import io.policylong.pipeline.staging.LocalStaging;
import io.policylong.pipeline.screening.AnchorQuery;
import io.policylong.pipeline.screening.AnchorSelector;
import io.policylong.pipeline.screening.CandidateSelection;
import io.policylong.pipeline.screening.NearDuplicates;
import io.policylong.pipeline.screening.QueryPlanner;
import io.policylong.pipeline.tasks.RetrievedDocument;
import io.policylong.pipeline.tasks.ScoredDocument;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.util.Collector;

/**
 * Anchors and retrieval: picks the document's anchors from its entropies, gives each its own query (the text
 * around it), searches the fixed corpus for each (never the document's own chunks), drops near-duplicates of
 * the document, and selects at most {@code maxCandidates} chunks rank by rank over the anchors
 * ({@link CandidateSelection}): a chunk serves the anchors whose own results hold it, and each anchor records
 * how many candidates it has. A document whose scoring failed goes to the dead
 * letters here.
 */
public final class RetrievalStage extends ScreeningOutcomeFunction<ScoredDocument, RetrievedDocument> {
    private static final long serialVersionUID = 1L;

    private final PipelineConfig config;
    private transient ChunkIndex index;
    private transient AnchorSelector anchors;
    private transient QueryPlanner planner;
    private transient NearDuplicates duplicates;
    private transient Counter screened;
    private transient Counter anchorCount;
    private transient Counter candidates;
    private transient Counter nearDuplicates;
    private transient Histogram anchorsPerDocument;
    private transient Histogram candidatesPerAnchor;
    private transient Map<Long, Counter> screenedByVersion;

    public RetrievalStage(PipelineConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        // A remote index is copied once into this TaskManager's cache; a local one is opened in place.
        index = ChunkIndex.open(LocalStaging.forCache(config.runtime().cacheDirectory(),
                config.policy().residentVersions() + 2).index(config.retrieval().index()));
        PipelineConfig.Screening s = config.screening();
        anchors = new AnchorSelector(s.alpha(), s.maxAnchors(), s.skipFirst());
        planner = new QueryPlanner(config.retrieval().queryHalfWindow());
        duplicates = new NearDuplicates(s.shingleWords(), s.duplicateThreshold());
        var metrics = getRuntimeContext().getMetricGroup();
        screened = metrics.counter("documentsScreened");
        anchorCount = metrics.counter("anchors");
        candidates = metrics.counter("candidatesRetrieved");
        nearDuplicates = metrics.counter("candidatesNearDuplicate");
        anchorsPerDocument = metrics.histogram("anchorsPerDocument", new DescriptiveStatisticsHistogram(1000));
        candidatesPerAnchor = metrics.histogram("candidatesPerAnchor", new DescriptiveStatisticsHistogram(1000));
        screenedByVersion = new java.util.HashMap<>();
    }

    @Override
    public void close() throws Exception {
        if (index != null) {
            index.close();
        }
    }

    @Override
    public void processElement(ScoredDocument scored, Context ctx, Collector<RetrievedDocument> out) {
        if (scored.failure() != null) {
            ctx.output(DeadLetters.TAG, DeadLetter.ofScreening("entropy", scored.task().document().id(),
                    scored.failure(), new DeadLetter.FailedScreening(scored.task().storedId(),
                            scored.task().policy().version(), scored.retryable())));
            finished(scored.task().storedId(), scored.task().policy().version());
            return;
        }
        screened.inc();
        screenedByVersion.computeIfAbsent(scored.task().policy().version(), v -> getRuntimeContext().getMetricGroup()
                .addGroup("version", String.valueOf(v)).counter("screened")).inc();
        List<Anchor> found = anchors.select(scored.entropyBefore(), scored.windowStarts());
        anchorCount.inc(found.size());
        anchorsPerDocument.update(found.size());
        String text = scored.task().document().text();
        List<AnchorQuery> queries = planner.plan(found, text, scored.tokenStarts(), scored.tokenEnds());
        Set<String> documentShingles = duplicates.shingles(text);
        Map<String, Boolean> nearDuplicate = new HashMap<>();
        List<CandidateSelection.AnchorHits> perAnchor = new ArrayList<>();
        for (AnchorQuery query : queries) {
            List<ChunkHit> kept = new ArrayList<>();
            for (ChunkHit hit : index.search(query.text(), config.retrieval().topK(), scored.task().storedId())) {
                boolean duplicate = nearDuplicate.computeIfAbsent(hit.chunkId(), id -> {
                    boolean d = duplicates.isNearDuplicate(hit.text(), documentShingles);
                    if (d) {
                        nearDuplicates.inc();
                    }
                    return d;
                });
                if (!duplicate) {
                    kept.add(hit);
                }
            }
            perAnchor.add(new CandidateSelection.AnchorHits(query.anchor(), kept));
        }
        // Enough further chunks to fill the sample to its target length (as the index counted their tokens).
        long fill = config.assembly().fillDistractors() ? config.assembly().targetTokens() : 0;
        CandidateSelection.Selection selection = CandidateSelection.select(perAnchor,
                config.retrieval().maxCandidates(), fill);
        candidates.inc(selection.candidates().size());
        for (Anchor a : selection.anchors()) {
            candidatesPerAnchor.update(a.candidates());
        }
        out.collect(new RetrievedDocument(scored, selection.anchors(), selection.candidates(),
                selection.distractors()));
    }
}
