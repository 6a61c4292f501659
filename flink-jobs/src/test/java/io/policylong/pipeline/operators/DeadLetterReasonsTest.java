package io.policylong.pipeline.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.policylong.records.Document;
import io.policylong.records.InvalidRecordException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The categories of the rejections the job actually produces. */
class DeadLetterReasonsTest {

    private static String reasonOf(String json) {
        try {
            Document.fromJson(json);
            throw new AssertionError("accepted: " + json);
        } catch (InvalidRecordException e) {
            return e.getMessage();
        }
    }

    @Test
    void everyKindOfRejectionHasItsCategory() {
        Map<String, String> expected = Map.ofEntries(
                Map.entry(reasonOf("{not json"), "invalid-json"),
                Map.entry(reasonOf("{\"id\": \"a\"}"), "missing-field"),
                Map.entry(reasonOf("{\"id\": \"a\", \"text\": \"  \"}"), "missing-field"),
                Map.entry("line 4 is not valid UTF-8", "invalid-utf8"),
                Map.entry("document has 25000 characters, more than the limit of 20000", "too-large"),
                Map.entry("record documents/1@7 has a value of 40023 bytes, more than the limit of 30000", "too-large"),
                Map.entry("document has fewer than 2 tokens", "too-short"),
                Map.entry("version 1 is not newer than the current version 4 (versions only move forward)",
                        "stale-version"),
                Map.entry("checkpoint rejected: /c/v9: checkpoint directory does not exist", "bad-checkpoint"),
                Map.entry("checkpoint rejected: /c/v9: weights sha256 is ab, not the announced cd", "bad-checkpoint"),
                Map.entry("policy version 3 could not be loaded: out of memory", "load-failed"),
                Map.entry("entropy scoring timed out after PT5M", "timeout"),
                Map.entry("something nobody planned for", "other"));
        expected.forEach((reason, category) -> assertEquals(category, DeadLetterReasons.category(reason), reason));
    }
}
