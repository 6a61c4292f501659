package io.policylong.pipeline.retrieval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.FSDirectory;

/**
 * The retrieval corpus opened read-only: BM25 search for the chunks most similar to a query text, never from
 * an excluded document. Query text is analyzed into terms and searched as a bag of words (no query syntax, so
 * any text is a valid query). Safe for concurrent searches; every parallel task can open its own copy.
 */
public final class ChunkIndex implements AutoCloseable {
    static final String CHUNK_ID = "chunk_id";
    static final String DOCUMENT_ID = "doc_id";
    static final String TEXT = "text";
    static final String TOKENS = "tokens";

    private final IndexReader reader;
    private final IndexSearcher searcher;
    private final Analyzer analyzer = analyzer();

    private ChunkIndex(IndexReader reader) {
        this.reader = reader;
        this.searcher = new IndexSearcher(reader);
    }

    /** English analysis: standard tokenizer, lower case, English stop words, Porter stemming. */
    static Analyzer analyzer() {
        return new EnglishAnalyzer();
    }

    /** Opens an index built by {@link ChunkIndexBuilder}. */
    public static ChunkIndex open(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new IOException(directory + ": no retrieval index here (build it with `policylong index`)");
        }
        return new ChunkIndex(DirectoryReader.open(FSDirectory.open(directory)));
    }

    /** Number of chunks. */
    public int size() {
        return reader.numDocs();
    }

    /**
     * The {@code topK} best chunks for a query text, highest score first, excluding chunks of
     * {@code excludedDocumentId} (may be null).
     */
    public List<ChunkHit> search(String queryText, int topK, String excludedDocumentId) {
        try {
            Set<String> terms = terms(queryText);
            if (terms.isEmpty()) {
                return List.of();
            }
            BooleanQuery.Builder query = new BooleanQuery.Builder();
            for (String term : terms) {
                query.add(new TermQuery(new Term(TEXT, term)), BooleanClause.Occur.SHOULD);
            }
            if (excludedDocumentId != null) {
                query.add(new TermQuery(new Term(DOCUMENT_ID, excludedDocumentId)), BooleanClause.Occur.MUST_NOT);
            }
            TopDocs top = searcher.search(query.build(), topK);
            StoredFields stored = searcher.storedFields();
            List<ChunkHit> hits = new ArrayList<>(top.scoreDocs.length);
            for (ScoreDoc sd : top.scoreDocs) {
                org.apache.lucene.document.Document d = stored.document(sd.doc);
                hits.add(new ChunkHit(d.get(CHUNK_ID), d.get(DOCUMENT_ID), d.get(TEXT),
                        d.getField(TOKENS).numericValue().intValue(), sd.score));
            }
            return hits;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Set<String> terms(String text) throws IOException {
        Set<String> terms = new LinkedHashSet<>();
        try (TokenStream stream = analyzer.tokenStream(TEXT, text)) {
            CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
            stream.reset();
            while (stream.incrementToken() && terms.size() < BooleanQuery.getMaxClauseCount() - 1) {
                terms.add(term.toString());
            }
            stream.end();
        }
        return terms;
    }

    @Override
    public void close() throws IOException {
        analyzer.close();
        reader.close();
    }
}
