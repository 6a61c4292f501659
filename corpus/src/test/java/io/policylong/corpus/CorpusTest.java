package io.policylong.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.records.Document;
import io.policylong.corpus.testing.Corpora;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The packaged corpora read into documents. */
class CorpusTest {

    @Test
    void detokenizesBrownSentences() {
        assertEquals("The jury said, \"no evidence\" that any irregularities took place.",
                BrownDetokenizer.detokenize("\tThe/at jury/nn said/vbd ,/, ``/`` no/at evidence/nn ''/'' that/cs "
                        + "any/dti irregularities/nns took/vbd place/nn ./."));
        assertEquals("It cost $5 (or 1/2 of it); he didn't 'know'!",
                BrownDetokenizer.detokenize("It/pps cost/vbd $/nns 5/cd (/( or/cc 1/2/cd of/in it/ppo )/) ;/. "
                        + "he/pps did/dod n't/* `/` know/vb '/' !/."));
        assertEquals("", BrownDetokenizer.detokenize("   "));
    }

    @Test
    void readsTheWholeBrownCorpus() throws Exception {
        List<Document> docs = BrownCorpus.read(Corpora.brown());
        assertEquals(500, docs.size());
        Document first = docs.get(0);
        assertEquals("brown-ca01", first.id());
        assertEquals("news", first.meta().get("genre"));
        assertTrue(first.text().startsWith("The Fulton County Grand Jury said Friday an investigation of Atlanta's "
                + "recent primary election produced \"no evidence\" that any irregularities took place."),
                first.text().substring(0, 200));
        Set<String> genres = new HashSet<>();
        long words = 0;
        for (Document d : docs) {
            genres.add(d.meta().get("genre"));
            assertFalse(d.text().contains("/nn"), "tags are stripped in " + d.id());
            words += d.text().split("\\s+").length;
        }
        assertEquals(15, genres.size());
        assertTrue(words > 900_000 && words < 1_100_000, "about a million words, got " + words);
    }

    @Test
    void keepsOnlyEnglishEuroparlLines() throws Exception {
        List<Document> docs = EuroparlCorpus.readEnglish();
        assertTrue(docs.size() > 1000 && docs.size() < 1500, "about 1,200 English lines, got " + docs.size());
        Set<String> ids = new HashSet<>();
        for (Document d : docs) {
            assertTrue(ids.add(d.id()), "unique id " + d.id());
            assertTrue(d.id().matches("europarl-\\d{5}"));
            assertTrue(EuroparlCorpus.isEnglish(d.text()));
        }
        assertFalse(EuroparlCorpus.isEnglish("Invitiamo dunque la Commissione a sottoporre nuove proposte intese a "
                + "combattere in modo efficace la discriminazione basata sul sesso e a garantire l'autentica "
                + "uguaglianza nei settori diversi dal lavoro e nella vita di tutti i giorni per tutti"));
        assertEquals(docs.get(0).id(), EuroparlCorpus.readEnglish().get(0).id(), "ids are stable across reads");
    }

    @Test
    void heldOutSplitIsDeterministicAndNearTheFraction() {
        HeldOutSplit split = new HeldOutSplit(0.1);
        int held = 0;
        for (int i = 0; i < 10_000; i++) {
            boolean h = split.isHeldOut("doc-" + i);
            assertEquals(h, new HeldOutSplit(0.1).isHeldOut("doc-" + i));
            held += h ? 1 : 0;
        }
        assertTrue(held > 900 && held < 1100, "held out " + held + " of 10,000");
        assertFalse(new HeldOutSplit(0).isHeldOut("anything"));
        assertTrue(new HeldOutSplit(1).isHeldOut("anything"));
    }
}
