package io.policylong.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DocumentTest {

    @Test
    void roundTripsThroughJson() throws Exception {
        Document d = new Document("brown-ca01", "The Fulton County Grand Jury said ...", "brown",
                Map.of("genre", "press"));
        assertEquals(d, Document.fromJson(d.toJson()));
        Document numeric = Document.fromJson("{\"id\": 42, \"text\": \"x\", \"meta\": {\"n\": 3}}");
        assertEquals("42", numeric.id());
        assertEquals("3", numeric.meta().get("n"));
    }

    @Test
    void rejectsMissingOrEmptyFields() {
        assertReason("{\"text\": \"x\"}", "missing \"id\"");
        assertReason("{\"id\": \"\", \"text\": \"x\"}", "\"id\" is empty");
        assertReason("{\"id\": \"a\"}", "document a has no \"text\"");
        assertReason("{\"id\": \"a\", \"text\": \"  \"}", "document a has empty text");
        assertReason("{\"id\": \"a\", \"text\": 5}", "\"text\" must be a string");
        assertReason("{\"id\": \"a\", \"text\": \"x\", \"meta\": [1]}", "\"meta\" must be an object");
        assertReason("not json", "not valid JSON");
    }

    private static void assertReason(String json, String reason) {
        InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> Document.fromJson(json));
        assertTrue(e.getMessage().contains(reason), "expected '" + reason + "' in: " + e.getMessage());
    }
}
