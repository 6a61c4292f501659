package io.policylong.model.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a byte-level {@code tokenizer.json} for small models: token id {@code b} is the byte {@code b}
 * (256 tokens, no merges, so any text round-trips), followed by special tokens. Byte tokens are spelled with
 * the usual byte-to-printable-character table of byte-level BPE so that standard tokenizer libraries load it.
 */
public final class ByteLevelTokenizerJson {
    /** Special tokens of the project's byte-level tokenizer, with ids 256, 257, 258. */
    public static final List<String> SPECIAL_TOKENS = List.of("<|endoftext|>", "<|separator|>", "<|pad|>");

    /** Vocabulary size: 256 bytes plus the special tokens. */
    public static final int VOCAB_SIZE = 256 + SPECIAL_TOKENS.size();

    private static final ObjectMapper JSON = new ObjectMapper();

    private ByteLevelTokenizerJson() {
    }

    /** Writes the tokenizer file. */
    public static void write(Path file) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        var added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            ObjectNode t = added.addObject();
            t.put("id", 256 + i);
            t.put("content", SPECIAL_TOKENS.get(i));
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel());
        root.putNull("post_processor");
        root.set("decoder", byteLevel());
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        char[] table = byteToChar();
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(table[b]), b);
        }
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            vocab.put(SPECIAL_TOKENS.get(i), 256 + i);
        }
        model.putArray("merges");
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }

    private static ObjectNode byteLevel() {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "ByteLevel");
        node.put("add_prefix_space", false);
        node.put("trim_offsets", false);
        node.put("use_regex", false);
        return node;
    }

    /**
     * Printable bytes stand for themselves; the others (control characters, space, some Latin-1) are shifted
     * to code points from 256 upwards in byte order, as byte-level BPE tokenizers do.
     */
    static char[] byteToChar() {
        char[] table = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char) b : (char) (256 + next++);
        }
        return table;
    }
}
