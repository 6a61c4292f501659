package io.policylong.pipeline;

import io.policylong.connectors.files.SmallFile;
import io.policylong.connectors.files.SourceLine;
import io.policylong.connectors.records.DeadLetter;
import io.policylong.connectors.records.Document;
import io.policylong.connectors.records.PolicyUpdate;
import io.policylong.connectors.records.TrainingSample;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.operators.DeadLetters;
import io.policylong.pipeline.operators.DocumentValidation;
import io.policylong.pipeline.operators.EntropyStage;
import io.policylong.pipeline.operators.PolicyParsing;
import io.policylong.pipeline.operators.RescreenPacer;
import io.policylong.pipeline.operators.RetrievalStage;
import io.policylong.pipeline.operators.SampleStage;
import io.policylong.pipeline.operators.ScreeningScheduler;
import io.policylong.pipeline.operators.VerificationStage;
import io.policylong.pipeline.tasks.RetrievedDocument;
import io.policylong.pipeline.tasks.ScoredDocument;
import io.policylong.pipeline.tasks.ScreeningTask;
import io.policylong.pipeline.tasks.VerifiedDocument;
import java.io.Serializable;
import java.util.Collection;
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
 * policy descriptor files in, training samples and dead letters out.
 *
 * <pre>
 * lines -> validate -> keyBy(doc id) -+-> scheduler (RocksDB: documents; broadcast: policy) -> pacer
 * descriptors -> parse -> broadcast --+
 *   -> [async] entropy -> anchors + retrieval -> [async] verification -> classify + assemble -> samples
 * every stage -> dead letters
 * </pre>
 */
public final class ScreeningJob {
    private ScreeningJob() {
    }

    /** What the job produces. */
    public record Outputs(DataStream<TrainingSample> samples, DataStream<DeadLetter> deadLetters) {
    }

    /** Wires the job onto the given inputs. */
    public static Outputs wire(PipelineConfig config, DataStream<SourceLine> documentLines,
            DataStream<SmallFile> policyFiles) {
        SingleOutputStreamOperator<Document> documents = documentLines
                .process(new DocumentValidation(config.input().maxDocumentChars()))
                .name("validate documents").uid("validate-documents");
        SingleOutputStreamOperator<PolicyUpdate> updates = policyFiles
                .process(new PolicyParsing())
                .name("parse policy descriptors").uid("parse-policies").setParallelism(1);
        BroadcastStream<PolicyUpdate> policy = updates.broadcast(ScreeningScheduler.POLICY);
        SingleOutputStreamOperator<ScreeningTask> scheduled = documents
                .keyBy(Document::id)
                .connect(policy)
                .process(new ScreeningScheduler())
                .name("schedule screening").uid("scheduler");
        SingleOutputStreamOperator<ScreeningTask> paced = scheduled
                .keyBy(task -> task.document().id())
                .process(new RescreenPacer(config.rescreen().documentsPerSecond()))
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
        SingleOutputStreamOperator<VerifiedDocument> verified = AsyncDataStream.unorderedWait(retrieved,
                new VerificationStage(config), scoring.timeout().toMillis(), TimeUnit.MILLISECONDS,
                scoring.capacity()).name("verification").uid("verification");
        SingleOutputStreamOperator<TrainingSample> samples = verified
                .process(new SampleStage(config))
                .name("classify and assemble").uid("samples");
        DataStream<DeadLetter> deadLetters = documents.getSideOutput(DeadLetters.TAG).union(
                updates.getSideOutput(DeadLetters.TAG),
                scheduled.getSideOutput(DeadLetters.TAG),
                retrieved.getSideOutput(DeadLetters.TAG),
                samples.getSideOutput(DeadLetters.TAG));
        return new Outputs(samples, deadLetters);
    }
}
