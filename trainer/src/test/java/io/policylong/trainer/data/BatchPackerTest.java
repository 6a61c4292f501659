package io.policylong.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BatchPackerTest {

    private static List<long[]> sequences() {
        List<long[]> list = new ArrayList<>();
        int[] lengths = {5, 17, 3, 40, 9};
        long next = 0;
        for (int length : lengths) {
            long[] s = new long[length];
            for (int i = 0; i < length; i++) {
                s[i] = next++;
            }
            list.add(s);
        }
        return list;
    }

    @Test
    void packsFullRowsWithPiecesThatRestartPositions() {
        BatchPacker packer = new BatchPacker(sequences(), 8, 7, 0);
        PackedBatch batch = packer.next(10); // 80 tokens: one epoch (74) and the start of the next
        Map<Long, Integer> seen = new HashMap<>();
        for (int r = 0; r < batch.rows(); r++) {
            int start = r * batch.length();
            assertEquals(0, batch.positions()[start], "every row starts a piece");
            assertEquals(0, batch.segments()[start]);
            for (int i = start + 1; i < start + batch.length(); i++) {
                boolean samePiece = batch.segments()[i] == batch.segments()[i - 1];
                if (samePiece) {
                    assertEquals(batch.positions()[i - 1] + 1, batch.positions()[i]);
                    assertEquals(batch.tokens()[i - 1] + 1, batch.tokens()[i], "a piece is a contiguous run of one "
                            + "sequence");
                } else {
                    assertEquals(batch.segments()[i - 1] + 1, batch.segments()[i]);
                    assertEquals(0, batch.positions()[i]);
                }
            }
        }
        for (int i = 0; i < 74; i++) {
            seen.merge(batch.tokens()[i], 1, Integer::sum);
        }
        assertEquals(74, seen.size(), "the first epoch visits every token exactly once");
        assertEquals(10, packer.rowsProduced());
    }

    @Test
    void targetsStayInsideAPiece() {
        PackedBatch batch = new BatchPacker(sequences(), 8, 7, 0).next(3);
        for (int i = 0; i < batch.tokens().length; i++) {
            boolean expected = i % 8 != 7 && batch.segments()[i + 1] == batch.segments()[i];
            assertEquals(expected, batch.hasTarget(i), "token " + i);
        }
    }

    @Test
    void skippingRowsResumesAtTheSamePlace() {
        PackedBatch straight = new BatchPacker(sequences(), 8, 11, 0.5).next(9);
        BatchPacker resumed = new BatchPacker(sequences(), 8, 11, 0.5);
        resumed.skipRows(4);
        PackedBatch tail = resumed.next(5);
        long[] expected = java.util.Arrays.copyOfRange(straight.tokens(), 4 * 8, 9 * 8);
        assertArrayEquals(expected, tail.tokens());
        assertArrayEquals(java.util.Arrays.copyOfRange(straight.segments(), 32, 72), tail.segments());
    }

    @Test
    void echoesRepeatEarlierSpansAndKeepTheOriginalInOrder() {
        long[] original = new long[3000];
        for (int i = 0; i < original.length; i++) {
            original[i] = 1000 + i;
        }
        long[] echoed = BatchPacker.echo(original, new SplittableRandom(5));
        assertArrayEquals(echoed, BatchPacker.echo(original, new SplittableRandom(5)), "deterministic");
        assertTrue(echoed.length > original.length * 1.1, "adds echoes: " + echoed.length);
        // Walk the output: original tokens appear in order; everything else is a copy of a span seen before.
        int next = 0;
        int copied = 0;
        for (int i = 0; i < echoed.length; i++) {
            if (next < original.length && echoed[i] == original[next]) {
                next++;
            } else {
                copied++;
                assertTrue(echoed[i] < original[Math.max(0, next - 1)] + 1, "a copy of something already seen");
            }
        }
        assertEquals(original.length, next, "the original survives in order");
        assertEquals(echoed.length - original.length, copied);
    }

    @Test
    void drillsRepeatGroupsOfSpansFromNearAndFarBack() {
        // Every source token is unique, so a token's two occurrences in a drill give the copy distance.
        List<long[]> sources = new ArrayList<>();
        long next = 0;
        for (int s = 0; s < 1000; s++) {
            long[] tokens = new long[300];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = next++;
            }
            sources.add(tokens);
        }
        List<long[]> drills = BatchPacker.drills(sources, 0.25, 3);
        assertArrayEquals(drills.get(7), BatchPacker.drills(sources, 0.25, 3).get(7), "deterministic");
        long drillTokens = drills.stream().mapToLong(d -> d.length).sum();
        assertTrue(drillTokens >= 1000 * 300 / 3 && drillTokens < 1000 * 300 / 3 + BatchPacker.DRILL_LENGTH,
                "a quarter of all tokens in drills: " + drillTokens);
        int repeats = 0;
        int outside = 0;
        int near = 0;
        int far = 0;
        int tokens = 0;
        for (long[] drill : drills) {
            Map<Long, Integer> first = new HashMap<>();
            for (int i = 0; i < drill.length; i++) {
                tokens++;
                Integer earlier = first.putIfAbsent(drill[i], i);
                if (earlier != null) {
                    int distance = i - earlier;
                    // A copy sits one group back; the rare exception is a span drawn twice into one drill.
                    outside += distance < 32 || distance > BatchPacker.MAX_DRILL_GROUP * 256 ? 1 : 0;
                    repeats++;
                    near += distance <= 256 ? 1 : 0;
                    far += distance > 512 ? 1 : 0;
                }
            }
        }
        // Half of every drill is a copy: every group fits with its copy.
        assertTrue(repeats > 0.45 * tokens && repeats <= 0.51 * tokens, repeats + " copies of " + tokens);
        assertTrue(outside < 0.01 * repeats, outside + " of " + repeats + " copies are not one group back");
        assertTrue(near > 0.1 * repeats && far > 0.1 * repeats, "copies from near and far: " + near + " within 256, "
                + far + " beyond 512, of " + repeats);
    }
}
