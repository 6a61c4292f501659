package io.policylong.pipeline.retrieval;

import io.policylong.text.TextChunks;
import io.policylong.records.Document;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.ToIntFunction;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.store.FSDirectory;

/**
 * Builds the fixed retrieval corpus once: every document is cut into chunks of about {@code chunkChars}
 * characters (paragraphs grouped, long ones cut at sentence ends), and each chunk becomes a Lucene document
 * with its id ({@code <doc id>#<ordinal>}), source document id, stored text and token count. Scoring is BM25.
 */
public final class ChunkIndexBuilder implements AutoCloseable {
    private final IndexWriter writer;
    private final int chunkChars;
    private final ToIntFunction<String> tokenCounter;
    private long documents;
    private long chunks;

    /**
     * Creates (or replaces) an index in a directory.
     *
     * @param tokenCounter counts the tokens of a chunk (the policy tokenizer)
     */
    public ChunkIndexBuilder(Path directory, int chunkChars, ToIntFunction<String> tokenCounter) throws IOException {
        if (chunkChars < 1) {
            throw new IllegalArgumentException("chunk size must be positive");
        }
        Files.createDirectories(directory);
        IndexWriterConfig config = new IndexWriterConfig(ChunkIndex.analyzer());
        config.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
        this.writer = new IndexWriter(FSDirectory.open(directory), config);
        this.chunkChars = chunkChars;
        this.tokenCounter = tokenCounter;
    }

    /** Adds the chunks of one document. */
    public void add(Document document) throws IOException {
        int ordinal = 0;
        String text = document.text();
        for (int[] range : TextChunks.split(text, chunkChars)) {
            String chunk = text.substring(range[0], range[1]).strip();
            if (chunk.isEmpty()) {
                continue;
            }
            org.apache.lucene.document.Document d = new org.apache.lucene.document.Document();
            d.add(new StringField(ChunkIndex.CHUNK_ID, document.id() + "#" + ordinal, Field.Store.YES));
            d.add(new StringField(ChunkIndex.DOCUMENT_ID, document.id(), Field.Store.YES));
            d.add(new TextField(ChunkIndex.TEXT, chunk, Field.Store.YES));
            d.add(new StoredField(ChunkIndex.TOKENS, tokenCounter.applyAsInt(chunk)));
            writer.addDocument(d);
            ordinal++;
            chunks++;
        }
        documents++;
    }

    /** Documents added so far. */
    public long documents() {
        return documents;
    }

    /** Chunks added so far. */
    public long chunks() {
        return chunks;
    }

    /** Commits the index and merges it into one segment (the corpus is fixed, so search speed is what counts). */
    @Override
    public void close() throws IOException {
        writer.forceMerge(1);
        writer.commit();
        writer.close();
    }
}
