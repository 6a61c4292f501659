package io.policylong.pipeline.operators;

import io.policylong.records.DeadLetter;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.scoring.PolicyScorer;
import io.policylong.pipeline.scoring.ScoringBackend;
import io.policylong.pipeline.screening.ContextClassifier;
import io.policylong.pipeline.screening.SampleAssembler;
import io.policylong.pipeline.screening.VerifiedContext;
import io.policylong.pipeline.tasks.RetrievedDocument;
import io.policylong.pipeline.tasks.VerifiedDocument;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import io.policylong.records.PolicyUpdate;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.BroadcastProcessFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.util.Collector;

/**
 * Classification and assembly: splits verified contexts into positives and hard negatives, assembles the
 * training sample (or counts it as dropped when it cannot reach the minimum fill), adds the token ids of the
 * whole sample when configured, and keeps the screening metrics (positives, hard negatives, the distribution
 * of dI in thousandths, samples written and dropped, staleness of emitted samples in versions: the newest
 * accepted version, from the policy broadcast, minus the sample's). Its outcomes reach the embedded runner's
 * progress once their checkpoint completes, like {@link ScreeningOutcomeFunction}'s.
 */
public final class SampleStage extends BroadcastProcessFunction<VerifiedDocument, PolicyUpdate, TrainingSample>
        implements CheckpointedFunction, CheckpointListener {
    private static final long serialVersionUID = 1L;
    private static final String NEWEST_KEY = "newest";

    /**
     * The broadcast state: the newest policy version accepted, against which the staleness of each emitted
     * sample is measured (every subtask sees the same accepted updates, so staleness does not depend on where a
     * sample is assembled).
     */
    public static final MapStateDescriptor<String, Long> NEWEST = new MapStateDescriptor<>("newest-version",
            Types.STRING, Types.LONG);

    private transient CommittedScreenings committed;

    private final PipelineConfig config;
    private transient ContextClassifier classifier;
    private transient ScoringBackend service;
    private transient Counter positives;
    private transient Counter hardNegatives;
    private transient Counter written;
    private transient Counter dropped;
    private transient Counter withoutPositive;
    private transient Histogram positiveGain;
    private transient Histogram negativeGain;
    private transient Histogram staleness;
    private transient Histogram fill;
    private transient Counter distractorsAdded;

    public SampleStage(PipelineConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext context) {
        classifier = new ContextClassifier(config.screening().epsilon(), config.screening().epsilonNeg());
        if (config.assembly().inputIds()) {
            service = ScoringBackend.acquire(config, GrantedGpus.of(getRuntimeContext()));
        }
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        positives = metrics.counter("positives");
        hardNegatives = metrics.counter("hardNegatives");
        written = metrics.counter("samplesWritten");
        dropped = metrics.counter("samplesDropped");
        withoutPositive = metrics.counter("samplesWithoutPositive");
        positiveGain = metrics.histogram("positiveGainMilli", new DescriptiveStatisticsHistogram(10_000));
        negativeGain = metrics.histogram("hardNegativeGainMilli", new DescriptiveStatisticsHistogram(10_000));
        staleness = metrics.histogram("sampleStaleness", new DescriptiveStatisticsHistogram(1000));
        // Sample length against the target, in thousandths.
        fill = metrics.histogram("sampleFillPermille", new DescriptiveStatisticsHistogram(10_000));
        distractorsAdded = metrics.counter("distractorsAdded");
    }

    @Override
    public void close() {
        if (service != null) {
            service.release();
        }
    }

    @Override
    public void processBroadcastElement(PolicyUpdate update, Context ctx, Collector<TrainingSample> out)
            throws Exception {
        Long newest = ctx.getBroadcastState(NEWEST).get(NEWEST_KEY);
        if (newest == null || update.version() > newest) {
            ctx.getBroadcastState(NEWEST).put(NEWEST_KEY, update.version());
        }
    }

    @Override
    public void processElement(VerifiedDocument verified, ReadOnlyContext ctx, Collector<TrainingSample> out)
            throws Exception {
        RetrievedDocument retrieved = verified.retrieved();
        String id = retrieved.scored().task().document().id();
        long version = retrieved.scored().task().policy().version();
        try {
            if (verified.failure() != null) {
                ctx.output(DeadLetters.TAG, DeadLetter.ofScreening("verification", id, verified.failure(),
                        new DeadLetter.FailedScreening(retrieved.scored().task().storedId(), version,
                                verified.retryable())));
                return;
            }
            ContextClassifier.Classification classes = classifier.classify(verified.contexts());
            positives.inc(classes.positives().size());
            PipelineProgress.positivesFound(classes.positives().size());
            hardNegatives.inc(classes.hardNegatives().size());
            for (VerifiedContext c : classes.positives()) {
                positiveGain.update(Math.round(c.bestGain() * 1000));
            }
            for (VerifiedContext c : classes.hardNegatives()) {
                negativeGain.update(Math.round(c.bestGain() * 1000));
            }
            PipelineConfig.Assembly a = config.assembly();
            if (a.requirePositive() && classes.positives().isEmpty()) {
                // Hard negatives and the document alone teach no long-range dependency.
                withoutPositive.inc();
                dropped.inc();
                return;
            }
            SampleAssembler sampleAssembler = new SampleAssembler(a.layout(), a.targetTokens(), a.minFill(),
                    a.separator(), verified.separatorTokens(), a.metaChunkChars());
            Optional<TrainingSample> sample = sampleAssembler.assemble(new SampleAssembler.DocumentInput(id,
                    retrieved.scored().task().document().text(), retrieved.scored().tokens().length,
                    retrieved.scored().tokenStarts(), retrieved.anchors()), version, classes,
                    a.fillDistractors() ? verified.distractors() : List.of());
            if (sample.isEmpty()) {
                dropped.inc();
                return;
            }
            TrainingSample result = a.inputIds() ? withInputIds(sample.get(), retrieved) : sample.get();
            written.inc();
            fill.update(Math.round(1000.0 * result.tokens() / a.targetTokens()));
            distractorsAdded.inc(result.segments().stream()
                    .filter(s -> s.role() == SampleSegment.Role.DISTRACTOR).count());
            Long newest = ctx.getBroadcastState(NEWEST).get(NEWEST_KEY);
            staleness.update(newest == null ? 0 : Math.max(0, newest - version));
            out.collect(result);
        } finally {
            committed.finished(retrieved.scored().task().storedId(), version);
        }
    }

    @Override
    public void initializeState(FunctionInitializationContext context) {
        // Nothing to restore: uncommitted screenings are replayed after a restart.
        committed = new CommittedScreenings();
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) {
        committed.barrier(context.getCheckpointId());
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        committed.committed(checkpointId);
    }

    private PolicyScorer scorer(RetrievedDocument retrieved) throws Exception {
        return service.lease(retrieved.scored().task().policy()).get(config.scoring().timeout().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** The sample's token ids: each segment tokenized on its own (no special tokens), joined by the separator. */
    private TrainingSample withInputIds(TrainingSample sample, RetrievedDocument retrieved) throws Exception {
        try (PolicyScorer scorer = scorer(retrieved)) {
            CheckpointTokenizer tokenizer = scorer.tokenizer();
            long[] separator = tokenizer.encodeIds(sample.separator(), false);
            List<long[]> parts = new ArrayList<>();
            int total = 0;
            for (SampleSegment s : sample.segments()) {
                if (!parts.isEmpty()) {
                    parts.add(separator);
                    total += separator.length;
                }
                long[] ids = tokenizer.encodeIds(s.text(), false);
                parts.add(ids);
                total += ids.length;
            }
            long[] all = new long[total];
            int at = 0;
            for (long[] p : parts) {
                System.arraycopy(p, 0, all, at, p.length);
                at += p.length;
            }
            return sample.withInputIds(all);
        }
    }
}
