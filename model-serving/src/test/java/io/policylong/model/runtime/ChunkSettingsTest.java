package io.policylong.model.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ChunkSettingsTest {

    @Test
    void rowsFollowFromTheBlockSize() {
        ChunkSettings c = ChunkSettings.ofMebibytes(8, 32, 32);
        // 8 MiB of scores for 1 sequence x 12 heads x 2048 keys: 85 query rows.
        assertEquals(85, c.attentionRows(1, 12, 2048));
        assertEquals(4096, c.mlpRows(1, 2048, 8192));
        assertEquals(262, c.entropyRows(32000, 10_000));
        assertEquals(55, c.entropyRows(151_936, 10_000));
    }

    @Test
    void rowsAreAtLeastOneAndAtMostWhatExists() {
        ChunkSettings tiny = new ChunkSettings(1, 1, 1);
        assertEquals(1, tiny.attentionRows(8, 32, 131072));
        assertEquals(1, tiny.entropyRows(152_000, 5));
        ChunkSettings huge = ChunkSettings.ofMebibytes(1e6, 1e6, 1e6);
        assertEquals(300, huge.attentionRows(1, 4, 300));
        assertEquals(7, huge.entropyRows(100, 7));
    }

    @Test
    void blockSizesMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new ChunkSettings(0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> ChunkSettings.ofMebibytes(1, -1, 1));
    }
}
