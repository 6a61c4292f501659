package io.policylong.pipeline.operators;

import io.policylong.connectors.files.SourceLine;
import io.policylong.records.DeadLetter;
import io.policylong.records.Document;
import io.policylong.records.InvalidRecordException;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Turns input lines into documents: a line that is not valid UTF-8, not a document's JSON, has no id or no
 * text, or whose text is longer than {@code maxChars} goes to the dead letters with its origin and reason.
 */
public final class DocumentValidation extends ProcessFunction<SourceLine, Document> {
    private static final long serialVersionUID = 1L;

    private final int maxChars;
    private transient Counter accepted;
    private transient Counter rejected;

    public DocumentValidation(int maxChars) {
        this.maxChars = maxChars;
    }

    @Override
    public void open(OpenContext context) {
        accepted = getRuntimeContext().getMetricGroup().counter("documentsIn");
        rejected = getRuntimeContext().getMetricGroup().counter("documentsRejected");
    }

    @Override
    public void processElement(SourceLine line, Context ctx, Collector<Document> out) {
        if (line.problem() != null) {
            reject(ctx, DeadLetter.ofRaw("validate", null, line.problem(), line.origin()));
            return;
        }
        Document document;
        try {
            document = Document.fromJson(line.text());
        } catch (InvalidRecordException e) {
            reject(ctx, DeadLetter.ofRaw("validate", line.text(), e.getMessage(), line.origin()));
            return;
        }
        if (document.text().length() > maxChars) {
            reject(ctx, DeadLetter.of("validate", document.id(), "document has " + document.text().length()
                    + " characters, more than the limit of " + maxChars, line.origin()));
            return;
        }
        accepted.inc();
        out.collect(document);
    }

    private void reject(Context ctx, DeadLetter letter) {
        rejected.inc();
        ctx.output(DeadLetters.TAG, letter);
    }
}
