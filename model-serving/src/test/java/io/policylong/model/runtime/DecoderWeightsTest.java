package io.policylong.model.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.policylong.model.checkpoint.InvalidCheckpointException;
import io.policylong.model.checkpoint.RandomCheckpoint;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.safetensors.SafetensorsWriter;
import io.policylong.model.testing.TestCheckpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints whose weights do not fit their configuration fail to load with a precise reason. */
class DecoderWeightsTest {
    private static final ModelConfig CONFIG = TestCheckpoints.tinyQwen2(50, false, new RopeScaling.None());

    @TempDir
    Path dir;

    @Test
    void missingTensorIsNamed() throws Exception {
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>(RandomCheckpoint.tensors(CONFIG, 1, 1));
        tensors.removeIf(t -> t.name().equals("model.layers.1.mlp.up_proj.weight"));
        RandomCheckpoint.write(dir, CONFIG, tensors, SafetensorsDType.F32, 0, null);
        assertLoadFails("tensor 'model.layers.1.mlp.up_proj.weight' is missing");
    }

    @Test
    void missingLmHeadOfUntiedModelIsNamed() throws Exception {
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>(RandomCheckpoint.tensors(CONFIG, 1, 1));
        tensors.removeIf(t -> t.name().equals("lm_head.weight"));
        RandomCheckpoint.write(dir, CONFIG, tensors, SafetensorsDType.F32, 0, null);
        assertLoadFails("tensor 'lm_head.weight' is missing");
    }

    @Test
    void wrongShapeIsNamed() throws Exception {
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>(RandomCheckpoint.tensors(CONFIG, 1, 1));
        tensors.replaceAll(t -> t.name().equals("model.layers.0.self_attn.k_proj.weight")
                ? new SafetensorsWriter.Tensor(t.name(), new long[] {8, 64}, new float[8 * 64]) : t);
        RandomCheckpoint.write(dir, CONFIG, tensors, SafetensorsDType.BF16, 0, null);
        assertLoadFails("tensor 'model.layers.0.self_attn.k_proj.weight' has shape [8, 64] but the configuration "
                + "needs [16, 32]");
    }

    @Test
    void configurationThatDisagreesWithWeights() throws Exception {
        RandomCheckpoint.write(dir, CONFIG, RandomCheckpoint.tensors(CONFIG, 1, 1), SafetensorsDType.F32, 0, null);
        ModelConfig wider = new ModelConfig(CONFIG.architecture(), CONFIG.vocabSize(), CONFIG.hiddenSize(),
                CONFIG.intermediateSize() + 1, CONFIG.numLayers(), CONFIG.numAttentionHeads(),
                CONFIG.numKeyValueHeads(), CONFIG.headDim(), CONFIG.rmsNormEps(), CONFIG.ropeTheta(),
                CONFIG.tieWordEmbeddings(), true, false, false, 4096, CONFIG.ropeScaling());
        wider.write(dir);
        assertLoadFails("mlp.gate_proj.weight' has shape [48, 32] but the configuration needs [49, 32]");
    }

    private void assertLoadFails(String reason) {
        InvalidCheckpointException e = assertThrows(InvalidCheckpointException.class,
                () -> DecoderModel.load(dir, Device.cpu()).close());
        assertTrue(e.getMessage().contains(reason), "expected '" + reason + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains(dir.toString()), "names the checkpoint: " + e.getMessage());
    }
}
