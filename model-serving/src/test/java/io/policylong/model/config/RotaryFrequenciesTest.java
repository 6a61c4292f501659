package io.policylong.model.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Inverse frequencies against values computed independently (outside Java, with the published reference
 * formulas) for the long-context configurations of Llama 3.1 and Qwen2.5.
 */
class RotaryFrequenciesTest {

    private static ModelConfig withScaling(double theta, RopeScaling scaling) {
        return new ModelConfig(Architecture.LLAMA, 1000, 4096, 14336, 1, 32, 8, 128, 1e-5, theta, false,
                false, false, false, 131072, scaling);
    }

    @Test
    void defaultFrequencies() {
        double[] inv = RotaryFrequencies.of(withScaling(10000.0, new RopeScaling.None())).inverseFrequencies();
        assertEquals(64, inv.length);
        assertEquals(1.0, inv[0]);
        assertRelative(Math.pow(10000.0, -2.0 * 10 / 128), inv[10]);
    }

    @Test
    void llama31Frequencies() {
        RotaryFrequencies f = RotaryFrequencies.of(withScaling(500000.0, new RopeScaling.Llama3(8, 1, 4, 8192)));
        double[] inv = f.inverseFrequencies();
        assertRelative(1.0, inv[0]);
        assertRelative(0.016560440080994446, inv[20]);
        assertRelative(3.428102195952591e-05, inv[40]); // in the smoothed band
        assertRelative(1.2297638677963614e-05, inv[45]);
        assertRelative(4.411534674558404e-06, inv[50]);
        assertRelative(3.068925988914511e-07, inv[63]);
        assertEquals(1.0, f.attentionScaling());
    }

    @Test
    void qwen25YarnFrequencies() {
        RotaryFrequencies f = RotaryFrequencies.of(withScaling(1_000_000.0,
                new RopeScaling.Yarn(4, 32768, 32, 1, Double.NaN, Double.NaN, Double.NaN, true)));
        double[] inv = f.inverseFrequencies();
        assertRelative(1.0, inv[0]);
        assertRelative(0.1154781984689458, inv[10]);
        assertRelative(0.01333521432163324, inv[20]);
        assertRelative(0.0010643609812470017, inv[30]); // inside the ramp between dims 23 and 40
        assertRelative(4.445698525097307e-05, inv[40]);
        assertRelative(3.102344401879299e-07, inv[63]);
        assertRelative(1.138629436111989, f.attentionScaling());
    }

    @Test
    void yarnAttentionFactorFromMscales() {
        RotaryFrequencies equal = RotaryFrequencies.of(withScaling(10000.0,
                new RopeScaling.Yarn(40, 4096, 32, 1, 1.0, 1.0, Double.NaN, true)));
        assertEquals(1.0, equal.attentionScaling(), 1e-15);
        RotaryFrequencies explicit = RotaryFrequencies.of(withScaling(10000.0,
                new RopeScaling.Yarn(40, 4096, 32, 1, Double.NaN, Double.NaN, 0.75, true)));
        assertEquals(0.75, explicit.attentionScaling());
    }

    @Test
    void linearDividesEveryFrequency() {
        double[] plain = RotaryFrequencies.of(withScaling(10000.0, new RopeScaling.None())).inverseFrequencies();
        double[] linear = RotaryFrequencies.of(withScaling(10000.0, new RopeScaling.Linear(4))).inverseFrequencies();
        for (int i = 0; i < plain.length; i++) {
            assertRelative(plain[i] / 4, linear[i]);
        }
    }

    private static void assertRelative(double expected, double actual) {
        assertEquals(expected, actual, Math.abs(expected) * 1e-12);
    }
}
