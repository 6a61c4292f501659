package io.policylong.pipeline.operators;

import io.policylong.records.DeadLetter;
import io.policylong.records.Document;
import io.policylong.records.PolicyUpdate;
import io.policylong.pipeline.tasks.PolicyRef;
import io.policylong.pipeline.tasks.ScheduledDocument;
import io.policylong.pipeline.tasks.Scheduling;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Decides what to screen under which policy. The current policy lives in broadcast state; per document id
 * (keyed state, RocksDB) the digest of its text and the newest version it was sent to screening under. A
 * document whose id and text are already stored is a duplicate and changes nothing (counted); one with a stored
 * id and new text replaces the old and is screened again. A document that arrives goes to the pacer with its
 * text and the current policy (or none yet). Updates arrive already validated ({@link PolicyValidation}, once,
 * upstream), in the same order on every subtask; one is accepted only if its version is newer than the current
 * one (a deterministic check, so all subtasks agree), otherwise it goes to the dead letters and the current
 * policy stays. Accepting a version sends the pacer a small ticket for every stored document screened under an
 * older version; the pacer, which holds the texts, releases the re-screens gradually.
 */
public final class ScreeningScheduler extends KeyedBroadcastProcessFunction<String, Document, PolicyUpdate,
        Scheduling> {
    private static final long serialVersionUID = 1L;
    private static final String CURRENT = "current";

    /** The broadcast state: the current policy under the key {@code current}. */
    public static final MapStateDescriptor<String, PolicyRef> POLICY = new MapStateDescriptor<>("policy",
            Types.STRING, TypeInformation.of(PolicyRef.class));

    /** The keyed state: the document's text digest and the newest version it was screened under. */
    public static final ValueStateDescriptor<ScheduledDocument> SCHEDULE = new ValueStateDescriptor<>("schedule",
            TypeInformation.of(ScheduledDocument.class));

    private transient ValueState<ScheduledDocument> schedule;
    private transient Counter screenings;
    private transient Counter rejectedPolicies;
    private transient Counter duplicates;
    private transient Counter replaced;
    private transient AtomicLong currentVersion;

    @Override
    public void open(OpenContext context) {
        schedule = getRuntimeContext().getState(SCHEDULE);
        screenings = getRuntimeContext().getMetricGroup().counter("screeningsScheduled");
        rejectedPolicies = getRuntimeContext().getMetricGroup().counter("policiesRejected");
        duplicates = getRuntimeContext().getMetricGroup().counter("documentsDuplicate");
        replaced = getRuntimeContext().getMetricGroup().counter("documentsReplaced");
        currentVersion = new AtomicLong(-1);
        getRuntimeContext().getMetricGroup().gauge("currentVersion", () -> currentVersion.get());
    }

    @Override
    public void processElement(Document document, ReadOnlyContext ctx, Collector<Scheduling> out) throws Exception {
        PolicyRef policy = ctx.getBroadcastState(POLICY).get(CURRENT);
        ScheduledDocument stored = schedule.value();
        String digest = TextDigest.of(document.text());
        if (stored == null) {
            PipelineProgress.documentStored(document.id());
        } else if (stored.textDigest().equals(digest)) {
            // Same id and text: it is screened (or waits for a policy, or is re-screened) already.
            duplicates.inc();
            return;
        } else {
            // Same id, new text: the new text replaces the old and is screened under the current version.
            replaced.inc();
        }
        if (policy == null) {
            schedule.update(new ScheduledDocument(digest, -1));
            out.collect(Scheduling.arrived(document, null));
            return;
        }
        currentVersion.set(policy.version());
        // After a restore the policy comes from checkpointed state, not from an update: report it here too.
        PipelineProgress.versionSeen(policy.version());
        schedule.update(new ScheduledDocument(digest, policy.version()));
        screenings.inc();
        out.collect(Scheduling.arrived(document, policy));
    }

    @Override
    public void processBroadcastElement(PolicyUpdate update, Context ctx, Collector<Scheduling> out)
            throws Exception {
        BroadcastState<String, PolicyRef> state = ctx.getBroadcastState(POLICY);
        PolicyRef current = state.get(CURRENT);
        if (current != null && update.version() <= current.version()) {
            reject(ctx, update, "version " + update.version() + " is not newer than the current version "
                    + current.version() + " (versions only move forward)");
            return;
        }
        PolicyRef policy = PolicyRef.of(update);
        state.put(CURRENT, policy);
        currentVersion.set(policy.version());
        PipelineProgress.versionSeen(policy.version(), update.time());
        ctx.applyToKeyedState(SCHEDULE, (key, stored) -> {
            ScheduledDocument doc = stored.value();
            if (doc != null && doc.screenedVersion() < policy.version()) {
                // Known to this JVM's progress after a restore too, so an idle stop waits for its re-screen.
                PipelineProgress.documentStored(key);
                stored.update(new ScheduledDocument(doc.textDigest(), policy.version()));
                screenings.inc();
                out.collect(Scheduling.ticket(key, policy, doc.screenedVersion() >= 0));
            }
        });
    }

    private void reject(Context ctx, PolicyUpdate update, String reason) {
        rejectedPolicies.inc();
        // Every parallel instance sees every update; one dead letter per rejected update is enough.
        if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0) {
            ctx.output(DeadLetters.TAG, DeadLetter.of("policy", "version " + update.version(), reason, update.uri()));
        }
    }
}
