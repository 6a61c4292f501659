package io.policylong.pipeline.retrieval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.records.Document;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real Lucene index built from documents and searched with BM25. */
class ChunkIndexTest {
    @TempDir
    Path dir;

    @Test
    void findsTheMostSimilarChunksAndExcludesTheQueryingDocument() throws Exception {
        try (ChunkIndexBuilder builder = new ChunkIndexBuilder(dir, 120, String::length)) {
            builder.add(new Document("astro", "The telescope observed the distant galaxy for three nights. "
                    + "Astronomers measured the redshift of the galaxy with great care. Later the team published "
                    + "its results about the galaxy cluster.", "test", Map.of()));
            builder.add(new Document("cook", "Bake the bread at high heat until the crust is golden. Let the bread "
                    + "rest before cutting it.", "test", Map.of()));
            builder.add(new Document("query-doc", "The galaxy redshift was measured by the telescope team.",
                    "test", Map.of()));
            assertEquals(3, builder.documents());
            assertTrue(builder.chunks() >= 4, "the long document is cut into several chunks: " + builder.chunks());
        }
        try (ChunkIndex index = ChunkIndex.open(dir)) {
            List<ChunkHit> hits = index.search("measured the redshift of a galaxy", 10, "query-doc");
            assertTrue(!hits.isEmpty());
            assertEquals("astro", hits.get(0).documentId());
            assertTrue(hits.get(0).chunkId().startsWith("astro#"));
            assertEquals(hits.get(0).text().length(), hits.get(0).tokens(), "token count from the given counter");
            assertTrue(hits.stream().noneMatch(h -> h.documentId().equals("query-doc")), "own document excluded");
            for (int i = 1; i < hits.size(); i++) {
                assertTrue(hits.get(i - 1).score() >= hits.get(i).score(), "best first");
            }
            assertEquals("query-doc", index.search("measured the redshift of a galaxy", 10, null).get(0)
                    .documentId(), "without exclusion the near copy wins");
            assertEquals(List.of(), index.search("the and of", 10, null), "stop words only: no query");
            assertEquals("cook", index.search("bread crust (heat) AND \"golden\" -rest", 1, null).get(0).documentId(),
                    "query syntax characters are just text");
        }
    }
}
