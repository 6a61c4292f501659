package io.policylong.pipeline.staging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.policylong.model.checkpoint.InvalidCheckpointException;
import io.policylong.model.checkpoint.RandomCheckpoint;
import io.policylong.model.config.Architecture;
import io.policylong.model.config.ModelConfig;
import io.policylong.model.config.RopeScaling;
import io.policylong.model.safetensors.SafetensorsDType;
import io.policylong.model.tokenizer.ByteLevelTokenizerJson;
import io.policylong.pipeline.retrieval.ChunkIndex;
import io.policylong.pipeline.retrieval.ChunkIndexBuilder;
import io.policylong.policy.CheckpointDigest;
import io.policylong.records.Document;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints and indexes made local: remote ones copied once into the cache, weights verified on load. */
class LocalStagingTest {
    static final ModelConfig TINY = new ModelConfig(Architecture.QWEN2, ByteLevelTokenizerJson.VOCAB_SIZE, 16, 32, 1,
            2, 1, 8, 1e-6, 10000.0, true, true, false, false, 4096, new RopeScaling.None());

    @TempDir
    static Path dir;

    static Path checkpoint;
    static String sha;

    @BeforeAll
    static void fixtures() throws Exception {
        Path tokenizer = dir.resolve("tokenizer.json");
        ByteLevelTokenizerJson.write(tokenizer);
        checkpoint = dir.resolve("remote/ckpt");
        RandomCheckpoint.write(checkpoint, TINY, RandomCheckpoint.tensors(TINY, 1, 1.0), SafetensorsDType.F32, 0,
                tokenizer);
        sha = CheckpointDigest.weightsSha256(checkpoint);
    }

    private static LocalStaging staging(String name) {
        return LocalStaging.forCache(dir.resolve(name).toUri().toString(), 2);
    }

    private static List<String> names(Path directory) throws IOException {
        try (Stream<Path> s = Files.list(directory)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aRemoteCheckpointIsCopiedOnceAndVerified() throws Exception {
        LocalStaging staging = staging("cache-a");
        Path local = staging.checkpoint(3, RemoteTestFileSystemFactory.uri(checkpoint), sha);
        assertTrue(local.startsWith(dir.resolve("cache-a")), local.toString());
        assertEquals(names(checkpoint), names(local));
        assertEquals(sha, CheckpointDigest.weightsSha256(local));
        Files.setLastModifiedTime(local.resolve("model.safetensors"),
                java.nio.file.attribute.FileTime.fromMillis(1000));
        assertEquals(local, staging.checkpoint(3, RemoteTestFileSystemFactory.uri(checkpoint), sha));
        assertEquals(1000, Files.getLastModifiedTime(local.resolve("model.safetensors")).toMillis(),
                "the second request reuses the copy");
        assertEquals(List.of(local.getFileName().toString()), names(dir.resolve("cache-a/checkpoints")));
    }

    @Test
    void aDamagedCachedCopyIsFetchedAgainBeforeItIsLoaded() throws Exception {
        LocalStaging staging = staging("cache-g");
        Path local = staging.checkpoint(6, RemoteTestFileSystemFactory.uri(checkpoint), sha);
        byte[] weights = Files.readAllBytes(local.resolve("model.safetensors"));
        weights[weights.length - 1] ^= 1;
        Files.write(local.resolve("model.safetensors"), weights);
        Path again = staging.checkpoint(6, RemoteTestFileSystemFactory.uri(checkpoint), sha);
        assertEquals(sha, CheckpointDigest.weightsSha256(again), "the weights loaded are the announced ones");
    }

    @Test
    void aRemoteIndexRebuiltUnderTheSameUriIsFetchedAgain() throws Exception {
        Path index = dir.resolve("rebuilt/chunks");
        try (ChunkIndexBuilder builder = new ChunkIndexBuilder(index, 200, String::length)) {
            builder.add(new Document("d1", "The lighthouse keeper polished the brass lamp.", null, Map.of()));
        }
        LocalStaging staging = staging("cache-h");
        try (ChunkIndex opened = ChunkIndex.open(staging.index(RemoteTestFileSystemFactory.uri(index)))) {
            assertEquals(1, opened.size());
        }
        try (ChunkIndexBuilder builder = new ChunkIndexBuilder(index, 200, String::length)) {
            builder.add(new Document("d1", "The lighthouse keeper polished the brass lamp.", null, Map.of()));
            builder.add(new Document("d2", "Interest rates rose sharply.", null, Map.of()));
        }
        try (ChunkIndex opened = ChunkIndex.open(staging.index(RemoteTestFileSystemFactory.uri(index)))) {
            assertEquals(2, opened.size(), "the new build, not the cached old one");
        }
    }

    @Test
    void aRemoteCopyWithOtherWeightsIsNeverInstalled() throws Exception {
        LocalStaging staging = staging("cache-b");
        InvalidCheckpointException e = assertThrows(InvalidCheckpointException.class,
                () -> staging.checkpoint(4, RemoteTestFileSystemFactory.uri(checkpoint), "ab".repeat(32)));
        assertTrue(e.getMessage().contains("weights sha256 is " + sha), e.getMessage());
        assertEquals(List.of(), names(dir.resolve("cache-b/checkpoints")), "nothing left to load later");
    }

    @Test
    void aLocalCheckpointChangedAfterItsAnnouncementIsRefused() throws Exception {
        Path changed = dir.resolve("changed");
        RandomCheckpoint.write(changed, TINY, RandomCheckpoint.tensors(TINY, 2, 1.0), SafetensorsDType.F32, 0,
                dir.resolve("tokenizer.json"));
        String announced = CheckpointDigest.weightsSha256(changed);
        assertEquals(changed, staging("cache-c").checkpoint(5, changed.toUri().toString(), announced),
                "a local checkpoint is loaded in place");
        RandomCheckpoint.write(changed, TINY, RandomCheckpoint.tensors(TINY, 3, 1.0), SafetensorsDType.F32, 0,
                dir.resolve("tokenizer.json"));
        assertNotEquals(announced, CheckpointDigest.weightsSha256(changed));
        assertThrows(InvalidCheckpointException.class,
                () -> staging("cache-c").checkpoint(5, changed.toUri().toString(), announced));
    }

    @Test
    void aRemoteIndexArchiveIsFetchedAndOpens() throws Exception {
        Path index = dir.resolve("index-src/chunks");
        try (ChunkIndexBuilder builder = new ChunkIndexBuilder(index, 200, String::length)) {
            builder.add(new Document("d1", "The lighthouse keeper polished the brass lamp.", null, Map.of()));
            builder.add(new Document("d2", "Interest rates rose sharply.", null, Map.of()));
        }
        Path archive = dir.resolve("remote/index.zip");
        try (OutputStream out = Files.newOutputStream(archive); ZipOutputStream zip = new ZipOutputStream(out);
                Stream<Path> files = Files.list(index)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                zip.putNextEntry(new ZipEntry("chunks/" + f.getFileName()));
                zip.write(Files.readAllBytes(f));
                zip.closeEntry();
            }
        }
        Path local = staging("cache-d").index(RemoteTestFileSystemFactory.uri(archive));
        try (ChunkIndex opened = ChunkIndex.open(local)) {
            assertEquals(2, opened.size());
            assertEquals("d1", opened.search("lighthouse lamp", 1, null).get(0).documentId());
        }
        Path directory = staging("cache-e").index(RemoteTestFileSystemFactory.uri(index));
        try (ChunkIndex opened = ChunkIndex.open(directory)) {
            assertEquals(2, opened.size(), "a remote index directory is copied whole");
        }
    }

    @Test
    void anArchiveEntryOutsideTheArchiveIsRefused() throws Exception {
        Path archive = dir.resolve("remote/evil.zip");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(archive))) {
            zip.putNextEntry(new ZipEntry("../../escaped"));
            zip.write(1);
            zip.closeEntry();
        }
        IOException e = assertThrows(IOException.class,
                () -> staging("cache-f").index(RemoteTestFileSystemFactory.uri(archive)));
        assertTrue(e.getMessage().contains("points outside the archive"), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("escaped")));
    }
}
