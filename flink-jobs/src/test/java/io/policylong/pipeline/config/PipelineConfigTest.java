package io.policylong.pipeline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.connectors.kafka.KafkaTopics;
import io.policylong.pipeline.JobSettings;
import io.policylong.pipeline.KafkaTopicSetup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateBackendOptions;
import org.junit.jupiter.api.Test;

/** Locations as URIs for a cluster and for the embedded runner, and the job settings taken from the file. */
class PipelineConfigTest {
    private static PipelineConfig parse(String... lines) throws Exception {
        return PipelineConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(String.join("\n", lines)), "job.yaml");
    }

    private static PipelineConfig onS3() throws Exception {
        return parse(
                "input: {documents: s3://corpus/documents}",
                "policy: {checkpoints: s3://models/announcements}",
                "retrieval: {index: /mnt/index}",
                "output: {samples: s3://data/samples, dead-letters: hdfs://nn:8020/dead}",
                "runtime: {checkpoint-dir: s3://state/policylong, parallelism: 8, checkpoint-interval: 30s}");
    }

    @Test
    void urisKeepTheirSchemeAndAbsolutePathsBecomeFileUris() throws Exception {
        PipelineConfig config = onS3().withAbsoluteLocations("job.yaml");
        assertEquals("s3://state/policylong", config.runtime().checkpointDirectory(),
                "not file:///<working directory>/s3:/state/policylong");
        assertEquals("s3://corpus/documents", config.input().documents());
        assertEquals("hdfs://nn:8020/dead", config.output().deadLetters());
        assertEquals("file:///mnt/index", config.retrieval().index());
        assertNull(config.runtime().cacheDirectory());
    }

    @Test
    void aRelativePathOnAClusterIsAnErrorNamingItsKey() throws Exception {
        PipelineConfig config = parse(
                "input: {documents: /data/in}",
                "policy: {checkpoints: /data/announcements}",
                "retrieval: {index: data/index}",
                "output: {samples: /data/samples, dead-letters: /data/dead}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> config.withAbsoluteLocations("job.yaml"));
        assertTrue(e.getMessage().startsWith("job.yaml: retrieval.index: 'data/index' is a relative path"),
                e.getMessage());
    }

    @Test
    void aRelativeFileUriAndARemoteCacheDirectoryAreRefused() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(
                "input: {documents: file:data/in}", "policy: {checkpoints: /c}", "retrieval: {index: /i}",
                "output: {samples: /s, dead-letters: /d}").withAbsoluteLocations("job.yaml"));
        assertTrue(e.getMessage().contains("input.documents: 'file:data/in' is a relative file: URI"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> parse(
                "input: {documents: /in}", "policy: {checkpoints: /c}", "retrieval: {index: /i}",
                "output: {samples: /s, dead-letters: /d}", "runtime: {cache-dir: s3://b/cache}")
                .withAbsoluteLocations("job.yaml"));
        assertTrue(e.getMessage().contains("runtime.cache-dir: 's3://b/cache' must be a local directory"),
                e.getMessage());
        assertTrue(Locations.isAbsolute("s3://b/x") && Locations.isAbsolute("file:///x") && Locations.isAbsolute("/x"));
        assertTrue(!Locations.isAbsolute("x/y") && !Locations.isAbsolute("file:x"));
    }

    @Test
    void aRecordLimitWithoutRoomForARecordIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(
                "retrieval: {index: /i}", "kafka: {bootstrap-servers: 'k:9092', max-record-bytes: 512}"));
        assertTrue(e.getMessage().contains("kafka.max-record-bytes: must be larger than 512"), e.getMessage());
    }

    @Test
    void topicsAreCreatedWithTheRecordLimitAndThePoliciesTopicKeepsOnePartitionForever() throws Exception {
        PipelineConfig.Kafka kafka = parse("retrieval: {index: /i}",
                "kafka: {bootstrap-servers: 'k:9092', max-record-bytes: 2000000, partitions: 6}").kafka();
        List<KafkaTopics.Spec> specs = KafkaTopicSetup.specs(kafka);
        assertEquals(List.of("policylong.documents", "policylong.policies", "policylong.samples",
                "policylong.dead-letters"), specs.stream().map(KafkaTopics.Spec::name).toList());
        assertTrue(specs.stream().allMatch(s -> s.configs().get("max.message.bytes").equals("2000000")), specs.toString());
        assertEquals(List.of(6, 1, 6, 6), specs.stream().map(KafkaTopics.Spec::partitions).toList());
        assertEquals("-1", specs.get(1).configs().get("retention.ms"));
        assertNull(specs.get(0).configs().get("retention.ms"));
    }

    @Test
    void durationsThatWouldMeanNeverAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(
                "input: {documents: /in}", "policy: {checkpoints: /c, validation-timeout: 0s}", "retrieval: {index: /i}",
                "output: {samples: /s, dead-letters: /d}"));
        assertTrue(e.getMessage().contains("policy.validation-timeout: must be longer than zero"), e.getMessage());
    }

    @Test
    void theEmbeddedRunnerResolvesRelativePathsAgainstItsWorkingDirectory() throws Exception {
        PipelineConfig config = parse(
                "input: {documents: data/in.jsonl}",
                "policy: {checkpoints: data/checkpoints, initial-checkpoint: models/m}",
                "retrieval: {index: data/index}",
                "output: {samples: out/samples, dead-letters: s3://bucket/dead}",
                "runtime: {checkpoint-dir: out/flink}").withLocationsResolvedAgainst(Path.of("/work/run"));
        assertEquals("file:///work/run/data/in.jsonl", config.input().documents());
        assertEquals("file:///work/run/models/m", config.policy().initialCheckpoint());
        assertEquals("file:///work/run/out/flink", config.runtime().checkpointDirectory());
        assertEquals("s3://bucket/dead", config.output().deadLetters());
        assertEquals(Path.of("/work/run/data/index"), Locations.localPath(config.retrieval().index()));
    }

    @Test
    void jobSettingsCarryRocksDbAndWhatTheFileSetsAndLeaveTheRestToTheCluster() throws Exception {
        Configuration conf = JobSettings.of(onS3().withAbsoluteLocations("job.yaml"));
        assertEquals("rocksdb", conf.get(StateBackendOptions.STATE_BACKEND));
        assertTrue(conf.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS));
        assertEquals(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION,
                conf.get(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION));
        assertEquals("s3://state/policylong", conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY));
        assertEquals("s3://state/policylong/savepoints", conf.get(CheckpointingOptions.SAVEPOINT_DIRECTORY));
        assertEquals(Duration.ofSeconds(30), conf.get(CheckpointingOptions.CHECKPOINTING_INTERVAL));
        assertEquals(8, conf.get(CoreOptions.DEFAULT_PARALLELISM));

        Configuration bare = JobSettings.of(parse(
                "input: {documents: /in}", "policy: {checkpoints: /c}", "retrieval: {index: /i}",
                "output: {samples: /s, dead-letters: /d}").withAbsoluteLocations("job.yaml"));
        assertTrue(bare.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY).isEmpty());
        assertTrue(bare.getOptional(CheckpointingOptions.CHECKPOINTING_INTERVAL).isEmpty());
        assertTrue(bare.getOptional(CoreOptions.DEFAULT_PARALLELISM).isEmpty());
    }
}
