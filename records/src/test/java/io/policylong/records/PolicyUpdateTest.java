package io.policylong.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class PolicyUpdateTest {
    private static final String SHA = "ab".repeat(32);

    @Test
    void roundTripsThroughJson() throws Exception {
        PolicyUpdate u = new PolicyUpdate(3, "file:///ckpt/step-1200", SHA, 1200L,
                Instant.parse("2026-11-29T17:00:00Z"), "run-a");
        assertEquals(u, PolicyUpdate.fromJson(u.toJson()));
        PolicyUpdate minimal = PolicyUpdate.fromJson("{\"version\": 0, \"uri\": \"/tmp/ckpt\"}");
        assertNull(minimal.sha256());
        assertNull(minimal.step());
        assertEquals("/tmp/ckpt", minimal.uri());
        assertEquals(u.uri(), PolicyUpdate.fromJson(u.toJson()).uri());
    }

    @Test
    void rejectsBadFieldsWithTheReason() {
        assertReason("{\"uri\": \"/x\"}", "missing \"version\"");
        assertReason("{\"version\": \"3\", \"uri\": \"/x\"}", "\"version\" must be an integer");
        assertReason("{\"version\": -1, \"uri\": \"/x\"}", "version must be non-negative");
        assertReason("{\"version\": 1}", "missing \"uri\"");
        assertReason("{\"version\": 1, \"uri\": \"/x\", \"sha256\": \"ABC\"}", "sha256 must be 64 lowercase hex");
        assertReason("{\"version\": 1, \"uri\": \"/x\", \"time\": \"yesterday\"}", "not an ISO-8601 instant");
        assertReason("{\"version\": 1, \"uri\": \"/x\", \"step\": 1.5}", "\"step\" must be an integer");
        assertReason("{\"version\": 1, \"uri\": \"/x\", \"version\": 2}", "not valid JSON");
        assertReason("{\"version\": 1, \"uri\": \"/x\"", "not valid JSON");
        assertReason("[1]", "not a JSON object");
    }

    @Test
    void checkpointsOnAnyFileSystemCanBeAnnounced() throws Exception {
        // Remote checkpoints are staged by each TaskManager (the job's LocalStaging), so the record takes any URI.
        PolicyUpdate remote = new PolicyUpdate(1, "s3://bucket/ckpt", null, null, null, null);
        assertEquals(remote, PolicyUpdate.fromJson(remote.toJson()));
    }

    private static void assertReason(String json, String reason) {
        InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> PolicyUpdate.fromJson(json));
        assertTrue(e.getMessage().startsWith("policy update: "), e.getMessage());
        assertTrue(e.getMessage().contains(reason), "expected '" + reason + "' in: " + e.getMessage());
    }
}
