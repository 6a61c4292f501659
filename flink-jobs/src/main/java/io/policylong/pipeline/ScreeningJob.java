package io.policylong.pipeline;

import io.policylong.connectors.files.SmallFile;
import io.policylong.connectors.files.SourceLine;
import io.policylong.records.DeadLetter;
import io.policylong.records.Document;
import io.policylong.records.PolicyUpdate;
import io.policylong.records.TrainingSample;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.operators.DeadLetters;
import io.policylong.pipeline.operators.DocumentValidation;
import io.policylong.pipeline.operators.EntropyStage;
import io.policylong.pipeline.operators.FailedScreenings;
import io.policylong.pipeline.operators.PolicyParsing;
import io.policylong.pipeline.operators.PolicyRecordParsing;
import io.policylong.pipeline.operators.PolicyValidation;
import io.policylong.pipeline.operators.PolicyVerdicts;
import io.policylong.pipeline.operators.RescreenPacer;
import io.policylong.pipeline.operators.RetrievalStage;
import io.policylong.pipeline.operators.SampleStage;
import io.policylong.pipeline.operators.ScreeningScheduler;
import io.policylong.pipeline.operators.VerificationStage;
import io.policylong.pipeline.tasks.RetrievedDocument;
import io.policylong.pipeline.tasks.ScoredDocument;
import io.policylong.pipeline.tasks.Scheduling;
import io.policylong.pipeline.tasks.ScreeningTask;
import io.policylong.pipeline.tasks.VerifiedDocument;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.async.AsyncRetryStrategy;
import org.apache.flink.streaming.util.retryable.AsyncRetryStrategies;

/**
 * The on-policy screening dataflow, independent of where records come from and go to: document lines and
 * policy updates (descriptor files, JSON records, or both) in, training samples and dead letters out.
 *
 * <pre>
 * lines -> validate -> keyBy(doc id) -+-> scheduler (RocksDB: text digests, versions; broadcast: policy)
 *                                     |     -> pacer (RocksDB: texts, parked re-screens)
 * descriptors, policy records -> parse -> [async, p=1] validate checkpoint -> verdicts -> broadcast -+
 *   -> [async] entropy -> anchors + retrieval -> [async] verification -> classify + assemble -> samples
 *                                                                      (broadcast: newest version) -+
 * every stage -> dead letters
 * </pre>
 */
public final class ScreeningJob {
    private ScreeningJob() {
    }

    /** What the job produces. */
    public record Outputs(DataStream<TrainingSample> samples, DataStream<DeadLetter> deadLetters) {
    }

    /** Wires the job onto the given inputs: document lines and descriptor files (see the other overload). */
    public static Outputs wire(PipelineConfig config, DataStream<SourceLine> documentLines,
            DataStream<SmallFile> policyFiles) {
        return wire(config, documentLines, policyFiles, null);
    }

    /**
     * Wires the job onto the given inputs: document lines, and policy updates from descriptor files, from
     * JSON records (a topic), or both (either may be null, not both). Both kinds of update feed the same
     * broadcast state.
     */
    public static Outputs wire(PipelineConfig config, DataStream<SourceLine> documentLines,
            DataStream<SmallFile> policyFiles, DataStream<SourceLine> policyRecords) {
        return wire(config, documentLines, policyFiles, policyRecords, null);
    }

    /**
     * As {@link #wire(PipelineConfig, DataStream, DataStream, DataStream)}, with the job's own committed dead
     * letters read back ({@code failedScreenings}, may be null): screenings that failed for good with a possibly
     * transient reason are tried again, paced and bounded ({@code scoring.rescreen-failed}).
     */
    public static Outputs wire(PipelineConfig config, DataStream<SourceLine> documentLines,
            DataStream<SmallFile> policyFiles, DataStream<SourceLine> policyRecords,
            DataStream<SourceLine> failedScreenings) {
        if (policyFiles == null && policyRecords == null) {
            throw new IllegalArgumentException("the job needs a source of policy updates");
        }
        SingleOutputStreamOperator<Document> documents = documentLines
                .process(new DocumentValidation(config.input().maxDocumentChars()))
                .name("validate documents").uid("validate-documents");
        List<SingleOutputStreamOperator<PolicyUpdate>> parsers = new ArrayList<>();
        if (policyFiles != null) {
            parsers.add(policyFiles.process(new PolicyParsing())
                    .name("parse descriptors").uid("parse-policies").setParallelism(1));
        }
        if (policyRecords != null) {
            parsers.add(policyRecords.process(new PolicyRecordParsing())
                    .name("parse policy records").uid("parse-policy-records").setParallelism(1));
        }
        DataStream<PolicyUpdate> announced = parsers.get(0);
        for (int i = 1; i < parsers.size(); i++) {
            announced = announced.union(parsers.get(i));
        }
        // Validated once, in order, off the task thread; every scheduler subtask then sees the same updates.
        // Each validation has its own time limit; the operator's is a backstop for updates queued behind others.
        int queued = 4;
        long backstop = config.policy().validationTimeout().toMillis() * (queued + 1) + 60_000;
        SingleOutputStreamOperator<PolicyUpdate> validated = AsyncDataStream.orderedWait(announced,
                new PolicyValidation(config), backstop, TimeUnit.MILLISECONDS, queued).name("validate policy").uid("validate-policies").setParallelism(1)
                .process(new PolicyVerdicts()).name("verdicts").uid("policy-verdicts").setParallelism(1);
        BroadcastStream<PolicyUpdate> policy = validated.broadcast(ScreeningScheduler.POLICY, SampleStage.NEWEST);
        SingleOutputStreamOperator<Scheduling> scheduled = documents
                .keyBy(Document::id)
                .connect(policy)
                .process(new ScreeningScheduler())
                .name("schedule screening").uid("scheduler");
        DataStream<Scheduling> toPace = scheduled;
        if (failedScreenings != null) {
            toPace = toPace.union(failedScreenings.process(new FailedScreenings())
                    .name("failed screenings").uid("failed-screenings"));
        }
        SingleOutputStreamOperator<ScreeningTask> paced = toPace
                .keyBy(Scheduling::documentId)
                .process(new RescreenPacer(config.rescreen().documentsPerSecond(), config.scoring().rescreenFailed()))
                .name("pace re-screening").uid("rescreen-pacer");
        PipelineConfig.Scoring scoring = config.scoring();
        AsyncRetryStrategy<ScoredDocument> retries = new AsyncRetryStrategies.FixedDelayRetryStrategyBuilder<
                ScoredDocument>(scoring.attempts(), scoring.retryDelay().toMillis())
                .ifResult((Predicate<Collection<ScoredDocument>> & Serializable)
                        results -> results.stream().anyMatch(ScoredDocument::retryable))
                .build();
        SingleOutputStreamOperator<ScoredDocument> scored = AsyncDataStream.unorderedWaitWithRetry(paced,
                new EntropyStage(config), scoring.timeout().toMillis(), TimeUnit.MILLISECONDS, scoring.capacity(),
                retries).name("entropy").uid("entropy");
        SingleOutputStreamOperator<RetrievedDocument> retrieved = scored
                .process(new RetrievalStage(config))
                .name("anchors and retrieval").uid("retrieval");
        AsyncRetryStrategy<VerifiedDocument> verificationRetries = new AsyncRetryStrategies
                .FixedDelayRetryStrategyBuilder<VerifiedDocument>(scoring.attempts(), scoring.retryDelay().toMillis())
                .ifResult((Predicate<Collection<VerifiedDocument>> & Serializable)
                        results -> results.stream().anyMatch(VerifiedDocument::retryable))
                .build();
        SingleOutputStreamOperator<VerifiedDocument> verified = AsyncDataStream.unorderedWaitWithRetry(retrieved,
                new VerificationStage(config), scoring.timeout().toMillis(), TimeUnit.MILLISECONDS,
                scoring.capacity(), verificationRetries).name("verification").uid("verification");
        SingleOutputStreamOperator<TrainingSample> samples = verified
                .connect(policy)
                .process(new SampleStage(config))
                .name("classify and assemble").uid("samples");
        DataStream<DeadLetter> deadLetters = documents.getSideOutput(DeadLetters.TAG);
        for (SingleOutputStreamOperator<PolicyUpdate> parser : parsers) {
            deadLetters = deadLetters.union(parser.getSideOutput(DeadLetters.TAG));
        }
        deadLetters = deadLetters.union(validated.getSideOutput(DeadLetters.TAG));
        deadLetters = deadLetters.union(
                scheduled.getSideOutput(DeadLetters.TAG),
                retrieved.getSideOutput(DeadLetters.TAG),
                samples.getSideOutput(DeadLetters.TAG));
        return new Outputs(samples, deadLetters);
    }
}
