package io.policylong.model.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.policylong.model.checkpoint.InvalidCheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Qwen2.5-7B-Instruct's config.json with the YaRN block its model card recommends for 128K inputs. */
    private static final String QWEN25_7B_YARN = """
            {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
             "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02,
             "intermediate_size": 18944, "max_position_embeddings": 32768, "max_window_layers": 28,
             "model_type": "qwen2", "num_attention_heads": 28, "num_hidden_layers": 28,
             "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 131072,
             "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.43.1",
             "use_cache": true, "use_sliding_window": false, "vocab_size": 152064,
             "rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"}}
            """;

    /** Llama-3.1-8B's config.json. */
    private static final String LLAMA31_8B = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "silu", "hidden_size": 4096,
             "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 131072,
             "mlp_bias": false, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32,
             "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
             "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 128256}
            """;

    @TempDir
    Path dir;

    @Test
    void parsesQwen25WithYarn() throws Exception {
        ModelConfig c = ModelConfig.parse(JSON.readTree(QWEN25_7B_YARN), "qwen");
        assertEquals(Architecture.QWEN2, c.architecture());
        assertEquals(152064, c.vocabSize());
        assertEquals(128, c.headDim());
        assertEquals(7, c.groupSize());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(1_000_000.0, c.ropeTheta());
        assertTrue(c.qkvBias());
        assertFalse(c.outputBias());
        assertFalse(c.tieWordEmbeddings());
        RopeScaling.Yarn yarn = assertInstanceOf(RopeScaling.Yarn.class, c.ropeScaling());
        assertEquals(4.0, yarn.factor());
        assertEquals(32768, yarn.originalMaxPositionEmbeddings());
        assertEquals(32, yarn.betaFast());
        assertEquals(1, yarn.betaSlow());
        // Qwen2.5-7B has about 7.6B parameters.
        assertEquals(7.6e9, c.parameterCount(), 0.1e9);
    }

    @Test
    void parsesLlama31() throws Exception {
        ModelConfig c = ModelConfig.parse(JSON.readTree(LLAMA31_8B), "llama");
        assertEquals(Architecture.LLAMA, c.architecture());
        assertFalse(c.qkvBias());
        assertEquals(131072, c.maxPositionEmbeddings());
        RopeScaling.Llama3 s = assertInstanceOf(RopeScaling.Llama3.class, c.ropeScaling());
        assertEquals(8.0, s.factor());
        assertEquals(8192, s.originalMaxPositionEmbeddings());
        assertEquals(8.03e9, c.parameterCount(), 0.05e9);
    }

    @Test
    void llamaAttentionBiasCoversAllFourProjections() throws Exception {
        ModelConfig c = ModelConfig.parse(JSON.readTree(LLAMA31_8B.replace("\"attention_bias\": false",
                "\"attention_bias\": true").replace("\"mlp_bias\": false", "\"mlp_bias\": true")), "llama");
        assertTrue(c.qkvBias());
        assertTrue(c.outputBias());
        assertTrue(c.mlpBias());
    }

    @Test
    void explicitHeadDimWins() throws Exception {
        ModelConfig c = ModelConfig.parse(JSON.readTree(LLAMA31_8B.replace("\"hidden_size\": 4096",
                "\"hidden_size\": 4096, \"head_dim\": 64")), "llama");
        assertEquals(64, c.headDim());
    }

    @Test
    void roundTripsThroughConfigJson() throws Exception {
        ModelConfig original = ModelConfig.parse(JSON.readTree(QWEN25_7B_YARN), "qwen");
        original.write(dir);
        assertEquals(original, ModelConfig.load(dir));
        ModelConfig llama = ModelConfig.parse(JSON.readTree(LLAMA31_8B), "llama");
        llama.write(dir);
        assertEquals(llama, ModelConfig.load(dir.resolve("config.json")));
    }

    @Test
    void linearAndDefaultScalingTypes() throws Exception {
        String linear = LLAMA31_8B.replaceAll("\"rope_scaling\": \\{[^}]*}", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}");
        assertEquals(new RopeScaling.Linear(2.0), ModelConfig.parse(JSON.readTree(linear), "x").ropeScaling());
        String none = LLAMA31_8B.replaceAll("\"rope_scaling\": \\{[^}]*}", "\"rope_scaling\": {\"rope_type\": \"default\"}");
        assertInstanceOf(RopeScaling.None.class, ModelConfig.parse(JSON.readTree(none), "x").ropeScaling());
        String nul = LLAMA31_8B.replaceAll("\"rope_scaling\": \\{[^}]*}", "\"rope_scaling\": null");
        assertInstanceOf(RopeScaling.None.class, ModelConfig.parse(JSON.readTree(nul), "x").ropeScaling());
    }

    @Test
    void errorsNameTheFileAndField() throws Exception {
        assertError(LLAMA31_8B.replaceAll("\"rope_scaling\": \\{[^}]*}", "\"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2.0}"),
                "rope scaling type 'dynamic' is not supported");
        assertError(LLAMA31_8B.replace("LlamaForCausalLM", "MistralForCausalLM"), "architecture 'MistralForCausalLM'");
        assertError(LLAMA31_8B.replace("\"vocab_size\": 128256", "\"vocab_size\": \"big\""), "vocab_size must be an integer");
        assertError(LLAMA31_8B.replace("\"num_hidden_layers\": 32,", ""), "missing required field num_hidden_layers");
        assertError(LLAMA31_8B.replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 5"),
                "must be a multiple of num_key_value_heads");
        assertError(LLAMA31_8B.replace("\"low_freq_factor\": 1.0,", ""), "missing required field low_freq_factor");
        assertError(QWEN25_7B_YARN.replace("\"use_sliding_window\": false", "\"use_sliding_window\": true"),
                "use_sliding_window=true is not supported");
        assertError(LLAMA31_8B.replace("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\""), "hidden_act");
        assertError("[1]", "not a JSON object");
    }

    @Test
    void readsRotarySettingsFromRopeParameters() throws Exception {
        String v5 = QWEN25_7B_YARN
                .replace("\"rope_theta\": 1000000.0,", "")
                .replace("\"rope_scaling\": {\"factor\": 4.0, \"original_max_position_embeddings\": 32768, \"type\": \"yarn\"}",
                        "\"rope_parameters\": {\"rope_type\": \"yarn\", \"rope_theta\": 1000000.0, \"factor\": 4.0, "
                                + "\"original_max_position_embeddings\": 32768}");
        ModelConfig c = ModelConfig.parse(JSON.readTree(v5), "v5");
        assertEquals(1_000_000.0, c.ropeTheta());
        assertEquals(4.0, assertInstanceOf(RopeScaling.Yarn.class, c.ropeScaling()).factor());
        String plain = LLAMA31_8B.replace("\"rope_theta\": 500000.0,", "")
                .replaceAll("\"rope_scaling\": \\{[^}]*}", "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 500000.0}");
        ModelConfig d = ModelConfig.parse(JSON.readTree(plain), "v5");
        assertEquals(500000.0, d.ropeTheta());
        assertInstanceOf(RopeScaling.None.class, d.ropeScaling());
        assertError(plain.replace("\"vocab_size\": 128256", "\"vocab_size\": 128256, \"rope_theta\": 10000.0"),
                "disagree");
    }

    @Test
    void yarnNeedsAnExplicitFactor() throws Exception {
        assertError(QWEN25_7B_YARN.replace("\"factor\": 4.0, ", ""), "missing required field factor");
    }

    @Test
    void missingFileIsReported() {
        InvalidCheckpointException e = assertThrows(InvalidCheckpointException.class, () -> ModelConfig.load(dir));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }

    private void assertError(String json, String reason) throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, json);
        InvalidCheckpointException e = assertThrows(InvalidCheckpointException.class, () -> ModelConfig.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(reason), "expected '" + reason + "' in: " + e.getMessage());
    }
}
