package io.policylong.model.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors a configuration's checkpoint holds: Hugging Face names and shapes, in the order the layers
 * use them. A tied LM head has no tensor of its own.
 */
public final class ParameterLayout {
    private ParameterLayout() {
    }

    /** Name to shape, embedding first, then layer by layer, then the final norm and (untied) LM head. */
    public static Map<String, long[]> of(ModelConfig c) {
        long hidden = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        long inter = c.intermediateSize();
        Map<String, long[]> layout = new LinkedHashMap<>();
        layout.put("model.embed_tokens.weight", new long[] {c.vocabSize(), hidden});
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            layout.put(p + "input_layernorm.weight", new long[] {hidden});
            layout.put(p + "self_attn.q_proj.weight", new long[] {q, hidden});
            layout.put(p + "self_attn.k_proj.weight", new long[] {kv, hidden});
            layout.put(p + "self_attn.v_proj.weight", new long[] {kv, hidden});
            if (c.qkvBias()) {
                layout.put(p + "self_attn.q_proj.bias", new long[] {q});
                layout.put(p + "self_attn.k_proj.bias", new long[] {kv});
                layout.put(p + "self_attn.v_proj.bias", new long[] {kv});
            }
            layout.put(p + "self_attn.o_proj.weight", new long[] {hidden, q});
            if (c.outputBias()) {
                layout.put(p + "self_attn.o_proj.bias", new long[] {hidden});
            }
            layout.put(p + "post_attention_layernorm.weight", new long[] {hidden});
            layout.put(p + "mlp.gate_proj.weight", new long[] {inter, hidden});
            layout.put(p + "mlp.up_proj.weight", new long[] {inter, hidden});
            layout.put(p + "mlp.down_proj.weight", new long[] {hidden, inter});
            if (c.mlpBias()) {
                layout.put(p + "mlp.gate_proj.bias", new long[] {inter});
                layout.put(p + "mlp.up_proj.bias", new long[] {inter});
                layout.put(p + "mlp.down_proj.bias", new long[] {hidden});
            }
        }
        layout.put("model.norm.weight", new long[] {hidden});
        if (!c.tieWordEmbeddings()) {
            layout.put("lm_head.weight", new long[] {c.vocabSize(), hidden});
        }
        return Collections.unmodifiableMap(layout);
    }
}
