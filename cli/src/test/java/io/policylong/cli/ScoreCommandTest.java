package io.policylong.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.model.checkpoint.RandomCheckpoint;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.scoring.LoadedCheckpoint;
import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.model.tokenizer.ByteLevelTokenizerJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The score command end to end on a real checkpoint directory with a byte-level tokenizer. */
class ScoreCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void scoresGoodLinesAndReportsBadOnes() throws Exception {
        Path checkpoint = dir.resolve("ckpt");
        ModelConfig config = BenchScoreCommand.TINY;
        Path tokenizer = dir.resolve("tokenizer.json");
        ByteLevelTokenizerJson.write(tokenizer);
        RandomCheckpoint.write(checkpoint, config, RandomCheckpoint.tensors(config, 4, 1.0), SafetensorsDType.BF16,
                0, tokenizer);

        ByteArrayOutputStream input = new ByteArrayOutputStream();
        input.writeBytes(String.join("\n",
                "{\"id\": \"a\", \"text\": \"Hello there\"}",
                "not json at all",
                "{\"id\": 7, \"input_ids\": [1, 2, 3, 4]}",
                "{\"text\": \"no id\"}",
                "{\"id\": \"both\", \"text\": \"x\", \"input_ids\": [1]}",
                "",
                "{\"id\": \"empty\", \"text\": \"\"}",
                "{\"id\": \"vocab\", \"input_ids\": [1, 259]}",
                "{\"id\": \"neg\", \"input_ids\": [1, -2]}").getBytes(StandardCharsets.UTF_8));
        input.write('\n');
        input.writeBytes(new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', '}', '\n'});
        input.writeBytes("{\"id\": \"last\", \"text\": \"é!\"}\n".getBytes(StandardCharsets.UTF_8));
        Path in = dir.resolve("in.jsonl");
        Files.write(in, input.toByteArray());
        Path out = dir.resolve("out/out.jsonl");

        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new ScoreCommand());
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute("--checkpoint", checkpoint.toString(), "--input", in.toString(), "--output",
                out.toString(), "--max-delay-ms", "1");
        String messages = err.toString();
        assertEquals(1, exit, messages);
        for (String expected : List.of("line 2: not valid JSON", "line 4: missing \"id\"",
                "line 5: record both has both", "line 7: record empty has no tokens",
                "line 8: record vocab could not be scored: token 1 has id 259",
                "line 9: record neg: input_ids[1] = -2", "line 10: not valid UTF-8")) {
            assertTrue(messages.contains(expected), "expected '" + expected + "' in:\n" + messages);
        }

        List<String> lines = Files.readAllLines(out);
        assertEquals(3, lines.size(), "one output line per good input line");
        for (String line : lines) {
            assertTrue(line.startsWith("{\"id\":"), "each line is one bare JSON object: " + line.substring(0, 20));
        }
        JsonNode first = JSON.readTree(lines.get(0));
        JsonNode second = JSON.readTree(lines.get(1));
        JsonNode third = JSON.readTree(lines.get(2));
        assertEquals("a", first.get("id").asText());
        assertEquals("7", second.get("id").asText());
        assertEquals("last", third.get("id").asText());
        assertEquals(11, first.get("input_ids").size());
        assertEquals(3, third.get("input_ids").size(), "é is two bytes, then !");

        try (LoadedCheckpoint loaded = LoadedCheckpoint.load(checkpoint, Device.cpu(), ChunkSettings.DEFAULT, 4096)) {
            for (JsonNode record : List.of(first, second, third)) {
                long[] ids = JSON.convertValue(record.get("input_ids"), long[].class);
                float[] entropy = JSON.convertValue(record.get("entropy"), float[].class);
                float[] logprob = JSON.convertValue(record.get("logprob"), float[].class);
                assertEquals(ids.length - 1, entropy.length);
                assertEquals(ids.length - 1, logprob.length);
                ScoreResult direct = loaded.scorer().score(List.of(ScoreRequest.allPositions(ids))).get(0);
                assertArrayEquals(direct.entropy(), entropy, 1e-5f);
                assertArrayEquals(direct.logprob(), logprob, 1e-5f);
            }
        }
    }

    @Test
    void missingCheckpointFailsWithTheReason() throws Exception {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"id\": \"a\", \"input_ids\": [1, 2]}\n");
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new ScoreCommand()).setExecutionExceptionHandler(new ErrorReporter());
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute("--checkpoint", dir.resolve("nothing").toString(), "--input", in.toString(),
                "--output", dir.resolve("o.jsonl").toString());
        assertEquals(ErrorReporter.EXIT_FAILED, exit);
        assertEquals("score: " + dir.resolve("nothing") + ": no such checkpoint directory or config.json",
                err.toString().strip());
    }
}
