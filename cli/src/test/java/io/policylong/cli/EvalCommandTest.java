package io.policylong.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.corpus.BrownCorpus;
import io.policylong.corpus.testing.Corpora;
import io.policylong.records.Document;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code policylong eval} on the bundled model with a few probes: the table, eval.json and the page. */
class EvalCommandTest {
    @TempDir
    Path dir;

    @Test
    void writesTheTableTheJsonAndThePage() throws Exception {
        Path haystack = dir.resolve("haystack.jsonl");
        List<Document> documents = BrownCorpus.read(Corpora.brown()).subList(0, 60);
        Files.write(haystack, documents.stream().map(Document::toJson).toList());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new PolicyLong()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute("eval", "--checkpoint", Path.of("..", "models", "byte-lm-4m").toString(), "--tasks",
                        "niah_single,kv_retrieval", "--lengths", "256", "--probes", "2", "--haystack",
                        haystack.toString(), "--out", dir.resolve("eval").toString(), "--device", "cpu");
        assertEquals(0, exit, err.toString());
        assertTrue(out.toString().contains("| niah_single | 256 | 2 |"), out.toString());
        JsonNode json = new ObjectMapper().readTree(dir.resolve("eval/eval.json").toFile());
        assertEquals(2, json.path("summaries").size());
        assertEquals(4, json.path("results").size());
        assertEquals("kv_retrieval", json.path("summaries").get(1).path("task").asText().toLowerCase());
        assertTrue(json.path("results").get(0).path("output").isTextual(), "greedy decoding by default");
        assertTrue(Files.readString(dir.resolve("eval/index.html")).contains("data:image/png;base64,"));

        StringWriter refused = new StringWriter();
        assertEquals(2, new CommandLine(new PolicyLong()).setErr(new PrintWriter(refused)).execute("eval",
                "--checkpoint", Path.of("..", "models", "byte-lm-4m").toString(), "--tasks", "needles",
                "--haystack", haystack.toString(), "--out", dir.resolve("x").toString()));
        assertTrue(refused.toString().contains("unknown probe task 'needles'"), refused.toString());
    }
}
