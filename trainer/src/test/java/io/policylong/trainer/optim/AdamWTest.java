package io.policylong.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** AdamW's update on one parameter, and its refusal to apply a non-finite gradient. */
class AdamWTest {

    private static double backward(NDArray w, float scale) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss = w.mul(scale).square().sum();
            collector.backward(loss);
            return loss.getFloat();
        }
    }

    @Test
    void aFiniteGradientMovesTheWeightsAndANonFiniteOneIsSkipped() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray w = manager.create(new float[] {1f, -2f, 3f});
            w.setRequiresGradient(true);
            AdamW adam = new AdamW(manager, 0.9, 0.95, 1e-8, 0.0, 0.0);
            Map<String, NDArray> parameters = Map.of("w", w);

            backward(w, 1f);
            double norm = adam.step(parameters, 0.1);
            assertEquals(Math.sqrt(4 + 16 + 36), norm, 1e-4, "the gradient of sum(w^2) is 2w");
            float[] after = w.toFloatArray();
            // The first Adam step moves every weight by the learning rate against the sign of its gradient.
            assertArrayEquals(new float[] {0.9f, -1.9f, 2.9f}, after, 1e-4f);
            assertEquals(1, adam.steps());

            backward(w, Float.NaN);
            double skipped = adam.step(parameters, 0.1);
            assertFalse(Double.isFinite(skipped));
            assertArrayEquals(after, w.toFloatArray(), "a NaN gradient leaves the weights alone");
            assertEquals(1, adam.steps(), "and does not count as a step");

            backward(w, 1f);
            assertTrue(Double.isFinite(adam.step(parameters, 0.1)), "the gradient was cleared: the next step is fine");
            for (float v : w.toFloatArray()) {
                assertTrue(Float.isFinite(v));
            }
        }
    }
}
