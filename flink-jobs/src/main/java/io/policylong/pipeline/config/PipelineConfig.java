package io.policylong.pipeline.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.policylong.connectors.kafka.KafkaRecordLimit;
import io.policylong.records.SampleLayout;
import io.policylong.model.runtime.ChunkSettings;
import io.policylong.model.scoring.BatchingSettings;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Every setting of the screening job, read from a YAML file ({@code conf/local.yaml} for the embedded
 * default). Each section and key is documented in the README; missing keys take the defaults below, unknown
 * keys are errors. Locations are paths or Flink file system URIs ({@code s3://...}); before use they are
 * turned into URIs by {@link #withLocationsResolvedAgainst} (embedded runner) or {@link #withAbsoluteLocations}
 * (a cluster, where relative paths are refused).
 */
public record PipelineConfig(Input input, Policy policy, Retrieval retrieval, Screening screening, Assembly assembly,
        Rescreen rescreen, Scoring scoring, Output output, Runtime runtime, Kafka kafka) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Where documents come from and what is accepted. */
    public record Input(String documents, Duration watch, int maxLineBytes, int maxDocumentChars,
            int maxDocumentTokens) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Where policies are announced. */
    public record Policy(String checkpoints, String initialCheckpoint, Duration watch, int residentVersions,
            Duration validationTimeout) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** The fixed retrieval corpus. */
    public record Retrieval(String corpus, String index, int chunkChars, int topK, int queryHalfWindow,
            int maxCandidates) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Anchors and verification. */
    public record Screening(double alpha, int maxAnchors, int skipFirst, int windowTokens, int leftContext,
            float epsilon, float epsilonNeg, int shingleWords, double duplicateThreshold) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Sample assembly. */
    public record Assembly(SampleLayout layout, int targetTokens, double minFill, String separator,
            int metaChunkChars, boolean inputIds, boolean requirePositive,
            boolean fillDistractors, int pieceTokens) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Re-screening after a version advance. */
    public record Rescreen(double documentsPerSecond) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** The scorer (in-process, or the scoring servers of {@code remote}) and the async operators in front of it. */
    public record Scoring(String device, long maxBatchTokens, Duration maxDelay, int queueCapacity,
            double attentionBlockMib, double mlpBlockMib, double entropyBlockMib, Duration timeout, int attempts,
            Duration retryDelay, int capacity, int rescreenFailed, Remote remote) implements Serializable {
        private static final long serialVersionUID = 1L;

        /** Whether the model runs in scoring servers ({@code backend: remote}) rather than in each TaskManager. */
        public boolean isRemote() {
            return remote != null;
        }

        /** The runtime's chunk settings. */
        public ChunkSettings chunks() {
            return ChunkSettings.ofMebibytes(attentionBlockMib, mlpBlockMib, entropyBlockMib);
        }

        /**
         * The longest one scoring attempt may take: the {@code timeout} of a document and stage, retries and
         * their delays included, shared by its {@code attempts} (at least a second). An attempt past it is
         * cancelled and retried.
         */
        public Duration attemptDeadline() {
            Duration forAttempts = timeout.minus(retryDelay.multipliedBy(attempts - 1L));
            Duration each = forAttempts.dividedBy(attempts);
            return each.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : each;
        }

        /** The runtime's batching settings. */
        public BatchingSettings batching() {
            return new BatchingSettings(maxBatchTokens, maxDelay, queueCapacity);
        }
    }

    /**
     * The scoring servers of {@code scoring.backend: remote} ({@code bin/policylong serve}).
     *
     * @param endpoints base URLs ({@code http://host:port}); requests are spread over them, a failing one is taken
     *     out for {@code retryDelay} and tried again after
     * @param modelName the model name the servers serve
     * @param requestTimeout how long one request may take before it is tried again (on another server)
     * @param tokenFile a file holding the servers' bearer token, or null
     */
    public record Remote(java.util.List<String> endpoints, String modelName, Duration requestTimeout, String tokenFile)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        public Remote {
            endpoints = java.util.List.copyOf(endpoints);
        }
    }

    /** Where samples and dead letters go. */
    public record Output(String samples, String deadLetters) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * The Flink runtime. {@code parallelism}, {@code checkpointInterval} and {@code checkpointDirectory} are null
     * when the file leaves them out: on a cluster the cluster's configuration decides, and the embedded runner
     * uses its own defaults. {@code cacheDirectory} is where a TaskManager keeps local copies of remote
     * checkpoints and indexes (null: the JVM's temporary directory).
     */
    public record Runtime(Integer parallelism, Duration checkpointInterval, String checkpointDirectory, WebUi webUi,
            Duration summaryInterval, String cacheDirectory) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * The embedded runner's web UI and REST endpoint: the address it binds (loopback unless asked), the first
     * port tried, and whether it may cancel jobs (it never takes job submissions).
     */
    public record WebUi(String address, int port, boolean cancel) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * Kafka in and out (absent: files). Documents and policy updates are read from topics, samples and dead
     * letters written to topics; {@code properties} go to every client (security settings and the like).
     */
    public record Kafka(String bootstrapServers, String documentsTopic, String policiesTopic, String samplesTopic,
            String deadLettersTopic, String groupId, String transactionalIdPrefix, int maxRecordBytes,
            Duration transactionTimeout, java.util.Map<String, String> properties, boolean createTopics,
            Integer partitions, Short replicationFactor) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Whether documents, samples and dead letters travel through Kafka. */
    public boolean usesKafka() {
        return kafka != null;
    }

    /**
     * This configuration with every location (documents, checkpoints directory, initial checkpoint, corpus,
     * index, outputs, Flink checkpoints, cache) as a URI: URIs keep their scheme, paths become absolute
     * {@code file:} URIs, relative ones resolved against {@code base} (the embedded runner's working directory).
     */
    public PipelineConfig withLocationsResolvedAgainst(Path base) {
        return mapLocations((key, location) -> Locations.resolve(location, base));
    }

    /**
     * This configuration with every location as a URI, for a cluster: a relative path is an error naming its
     * key, since it would resolve against each TaskManager's working directory.
     */
    public PipelineConfig withAbsoluteLocations(String source) {
        return mapLocations((key, location) -> {
            String uri = Locations.requireAbsolute(source, key, location);
            if (key.equals("runtime.cache-dir") && !Locations.isLocal(uri)) {
                throw new IllegalArgumentException(source + ": runtime.cache-dir: '" + location + "' must be a local "
                        + "directory of each TaskManager");
            }
            return uri;
        });
    }

    private PipelineConfig mapLocations(java.util.function.BinaryOperator<String> map) {
        java.util.function.BinaryOperator<String> m = (key, value) -> value == null ? null : map.apply(key, value);
        Input in = new Input(m.apply("input.documents", input.documents()), input.watch(), input.maxLineBytes(),
                input.maxDocumentChars(), input.maxDocumentTokens());
        Policy po = new Policy(m.apply("policy.checkpoints", policy.checkpoints()),
                m.apply("policy.initial-checkpoint", policy.initialCheckpoint()), policy.watch(),
                policy.residentVersions(), policy.validationTimeout());
        Retrieval re = new Retrieval(m.apply("retrieval.corpus", retrieval.corpus()),
                m.apply("retrieval.index", retrieval.index()), retrieval.chunkChars(), retrieval.topK(),
                retrieval.queryHalfWindow(), retrieval.maxCandidates());
        Output ou = new Output(m.apply("output.samples", output.samples()),
                m.apply("output.dead-letters", output.deadLetters()));
        Runtime ru = new Runtime(runtime.parallelism(), runtime.checkpointInterval(),
                m.apply("runtime.checkpoint-dir", runtime.checkpointDirectory()), runtime.webUi(),
                runtime.summaryInterval(), m.apply("runtime.cache-dir", runtime.cacheDirectory()));
        return new PipelineConfig(in, po, re, screening, assembly, rescreen, scoring, ou, ru, kafka);
    }

    /** Reads and validates a YAML file. */
    public static PipelineConfig load(Path file) throws IOException {
        JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
        return parse(root, file.toString());
    }

    /** {@code kafka.max-record-bytes}: a record must have room for more than its overhead. */
    private static int maxRecordBytes(ConfigTree kafka) {
        int bytes = kafka.positiveInt("max-record-bytes", 16 * 1024 * 1024);
        if (bytes <= KafkaRecordLimit.RECORD_OVERHEAD_BYTES) {
            throw kafka.error("max-record-bytes", "must be larger than " + KafkaRecordLimit.RECORD_OVERHEAD_BYTES
                    + " (the overhead of one Kafka record) but is " + bytes);
        }
        return bytes;
    }

    /** Validates a parsed configuration; {@code source} names it in errors. */
    public static PipelineConfig parse(JsonNode root, String source) {
        ConfigTree top = new ConfigTree(root, "", source).only("input", "policy", "retrieval", "screening",
                "assembly", "rescreen", "scoring", "output", "runtime", "kafka");
        Kafka kafka = null;
        if (top.has("kafka")) {
            ConfigTree ka = top.section("kafka").only("bootstrap-servers", "documents-topic", "policies-topic",
                    "samples-topic", "dead-letters-topic", "group-id", "transactional-id-prefix", "max-record-bytes",
                    "transaction-timeout", "properties", "create-topics", "partitions", "replication-factor");
            int replication = ka.nonNegativeInt("replication-factor", 0);
            if (replication > Short.MAX_VALUE) {
                throw ka.error("replication-factor", "is too large: " + replication);
            }
            kafka = new Kafka(ka.requiredText("bootstrap-servers"), ka.text("documents-topic", "policylong.documents"),
                    ka.text("policies-topic", "policylong.policies"), ka.text("samples-topic", "policylong.samples"),
                    ka.text("dead-letters-topic", "policylong.dead-letters"), ka.text("group-id", "policylong-screening"),
                    ka.text("transactional-id-prefix", "policylong-screening"),
                    maxRecordBytes(ka),
                    ka.duration("transaction-timeout", Duration.ofMinutes(15)), ka.stringMap("properties"),
                    ka.bool("create-topics", true), ka.has("partitions") ? ka.positiveInt("partitions", 1) : null,
                    replication == 0 ? null : (short) replication);
        }
        ConfigTree in = top.section("input").only("documents", "watch", "max-line-bytes", "max-document-chars",
                "max-document-tokens");
        String watch = in.text("watch", null);
        if (kafka != null && in.has("documents")) {
            throw in.error("documents", "must not be set with kafka: documents come from kafka.documents-topic");
        }
        Input input = new Input(kafka != null ? null : in.requiredText("documents"),
                watch == null || watch.equals("false") ? null : in.duration("watch", null),
                in.positiveInt("max-line-bytes", 16 * 1024 * 1024), in.positiveInt("max-document-chars", 1_000_000),
                in.positiveInt("max-document-tokens", 65_536));
        ConfigTree po = top.section("policy").only("checkpoints", "initial-checkpoint", "watch", "resident-versions",
                "validation-timeout");
        Policy policy = new Policy(kafka != null ? po.text("checkpoints", null) : po.requiredText("checkpoints"),
                po.text("initial-checkpoint", null), po.duration("watch", Duration.ofSeconds(2)),
                po.positiveInt("resident-versions", 2), po.positiveDuration("validation-timeout", Duration.ofMinutes(30)));
        ConfigTree re = top.section("retrieval").only("corpus", "index", "chunk-chars", "top-k", "query-half-window",
                "max-candidates");
        Retrieval retrieval = new Retrieval(re.text("corpus", null), re.requiredText("index"),
                re.positiveInt("chunk-chars", 2048), re.positiveInt("top-k", 32), re.positiveInt("query-half-window", 16),
                re.positiveInt("max-candidates", 64));
        ConfigTree sc = top.section("screening").only("alpha", "max-anchors", "skip-first", "window-tokens",
                "left-context", "epsilon", "epsilon-neg", "shingle-words", "duplicate-threshold");
        Screening screening = new Screening(sc.number("alpha", 2.0), sc.nonNegativeInt("max-anchors", 16),
                sc.positiveInt("skip-first", 16), sc.positiveInt("window-tokens", 2048),
                sc.nonNegativeInt("left-context", 512), (float) sc.number("epsilon", 0.4),
                (float) sc.number("epsilon-neg", 0.0), sc.positiveInt("shingle-words", 5),
                sc.fraction("duplicate-threshold", 0.5));
        if (screening.leftContext() >= screening.windowTokens()) {
            throw sc.error("left-context", "must be smaller than window-tokens");
        }
        if (screening.epsilonNeg() > screening.epsilon()) {
            throw sc.error("epsilon-neg", "must not exceed epsilon");
        }
        ConfigTree as = top.section("assembly").only("layout", "target-tokens", "min-fill", "separator",
                "meta-chunk-chars", "input-ids", "require-positive", "fill-distractors", "piece-tokens");
        SampleLayout layout;
        try {
            layout = SampleLayout.fromName(as.text("layout", "shuffle"));
        } catch (IllegalArgumentException e) {
            throw as.error("layout", e.getMessage());
        }
        Assembly assembly = new Assembly(layout, as.positiveInt("target-tokens", 131_072),
                as.fraction("min-fill", 0.5), as.text("separator", "\n\n"), as.positiveInt("meta-chunk-chars", 2048),
                as.bool("input-ids", false), as.bool("require-positive", true), as.bool("fill-distractors", true),
                0);
        int pieceTokens = as.positiveInt("piece-tokens", Math.max(1, assembly.targetTokens() / 2));
        if (pieceTokens >= assembly.targetTokens()) {
            throw as.error("piece-tokens", "must be smaller than target-tokens, so that contexts fit beside a piece");
        }
        assembly = new Assembly(assembly.layout(), assembly.targetTokens(), assembly.minFill(), assembly.separator(),
                assembly.metaChunkChars(), assembly.inputIds(), assembly.requirePositive(),
                assembly.fillDistractors(), pieceTokens);
        ConfigTree rs = top.section("rescreen").only("documents-per-second");
        double rate = rs.number("documents-per-second", 10);
        if (!(rate > 0)) {
            throw rs.error("documents-per-second", "must be positive");
        }
        ConfigTree so = top.section("scoring").only("device", "max-batch-tokens", "max-delay", "queue",
                "attention-block-mib", "mlp-block-mib", "entropy-block-mib", "timeout", "attempts", "retry-delay",
                "capacity", "rescreen-failed", "backend", "endpoints", "model-name", "request-timeout", "token-file");
        String backend = so.text("backend", "in-process");
        Remote remote = null;
        if (backend.equals("remote")) {
            java.util.List<String> endpoints = so.texts("endpoints");
            if (endpoints.isEmpty()) {
                throw so.error("endpoints", "backend remote needs the scoring servers' URLs (http://host:port)");
            }
            for (String e : endpoints) {
                if (!e.matches("https?://[^/\\s]+/?")) {
                    throw so.error("endpoints", "'" + e + "' is not a server's base URL (http://host:port)");
                }
            }
            remote = new Remote(endpoints, so.text("model-name", "policylong"),
                    so.positiveDuration("request-timeout", Duration.ofSeconds(60)), so.text("token-file", null));
        } else if (!backend.equals("in-process")) {
            throw so.error("backend", "must be in-process or remote, not " + backend);
        } else {
            for (String key : new String[] {"endpoints", "model-name", "request-timeout", "token-file"}) {
                if (so.has(key)) {
                    throw so.error(key, "is for backend: remote");
                }
            }
        }
        Scoring scoring = new Scoring(so.text("device", "auto"), so.positiveInt("max-batch-tokens", 8192),
                so.duration("max-delay", Duration.ofMillis(20)), so.positiveInt("queue", 256),
                so.number("attention-block-mib", 8), so.number("mlp-block-mib", 32), so.number("entropy-block-mib", 32),
                so.positiveDuration("timeout", Duration.ofMinutes(5)), so.positiveInt("attempts", 3),
                so.duration("retry-delay", Duration.ofSeconds(1)), so.positiveInt("capacity", 16),
                so.nonNegativeInt("rescreen-failed", 2), remote);
        ConfigTree ou = top.section("output").only("samples", "dead-letters");
        if (kafka != null && (ou.has("samples") || ou.has("dead-letters"))) {
            throw ou.error(ou.has("samples") ? "samples" : "dead-letters",
                    "must not be set with kafka: samples and dead letters go to kafka topics");
        }
        Output output = kafka != null ? new Output(null, null)
                : new Output(ou.requiredText("samples"), ou.requiredText("dead-letters"));
        ConfigTree ru = top.section("runtime").only("parallelism", "checkpoint-interval", "checkpoint-dir",
                "web-ui-port", "web-ui-address", "web-ui-cancel", "summary-interval", "cache-dir");
        Runtime runtime = new Runtime(ru.has("parallelism") ? ru.positiveInt("parallelism", 1) : null,
                ru.positiveDuration("checkpoint-interval", null), ru.text("checkpoint-dir", null),
                new WebUi(ru.text("web-ui-address", "127.0.0.1"), ru.nonNegativeInt("web-ui-port", 8081),
                        ru.bool("web-ui-cancel", false)),
                ru.duration("summary-interval", Duration.ofSeconds(10)), ru.text("cache-dir", null));
        return new PipelineConfig(input, policy, retrieval, screening, assembly, new Rescreen(rate), scoring, output,
                runtime, kafka);
    }
}
