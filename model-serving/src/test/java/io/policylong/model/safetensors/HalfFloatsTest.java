package io.policylong.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    @Test
    void everyF16PatternRoundTrips() {
        for (int bits = 0; bits < 0x10000; bits++) {
            short h = (short) bits;
            float f = HalfFloats.f16ToFloat(h);
            if (Float.isNaN(f)) {
                assertTrue((bits & 0x7C00) == 0x7C00 && (bits & 0x3FF) != 0, "NaN only from NaN patterns: " + bits);
                continue;
            }
            assertEquals(bits, HalfFloats.floatToF16(f) & 0xFFFF, "pattern " + Integer.toHexString(bits));
        }
    }

    @Test
    void f16DecodesKnownValues() {
        assertEquals(1.0f, HalfFloats.f16ToFloat((short) 0x3C00));
        assertEquals(-2.0f, HalfFloats.f16ToFloat((short) 0xC000));
        assertEquals(65504f, HalfFloats.f16ToFloat((short) 0x7BFF));
        assertEquals(0x1p-24f, HalfFloats.f16ToFloat((short) 0x0001)); // smallest subnormal
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.f16ToFloat((short) 0x7C00));
    }

    @Test
    void f16RoundsToNearestEvenAndOverflowsToInfinity() {
        // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties go to the even mantissa (1.0).
        assertEquals(0x3C00, HalfFloats.floatToF16(1f + 0x1p-11f) & 0xFFFF);
        assertEquals(0x3C01, HalfFloats.floatToF16(1f + 0x1p-11f + 0x1p-20f) & 0xFFFF);
        assertEquals(0x7C00, HalfFloats.floatToF16(70000f) & 0xFFFF);
    }

    @Test
    void bf16IsTheUpperHalfOfFloat32() {
        assertEquals(1.0f, HalfFloats.bf16ToFloat((short) 0x3F80));
        assertEquals(-3.140625f, HalfFloats.bf16ToFloat((short) 0xC049));
        for (int bits = 0; bits < 0x10000; bits += 7) {
            float f = HalfFloats.bf16ToFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals(bits, HalfFloats.floatToBf16(f) & 0xFFFF);
            }
        }
        // Round to nearest even on the dropped 16 bits.
        assertEquals(0x3F80, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F808000)) & 0xFFFF);
        assertEquals(0x3F82, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F818000)) & 0xFFFF);
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN))));
    }
}
