package io.policylong.pipeline.scoring;

import io.policylong.model.scoring.ScoreRequest;
import io.policylong.model.scoring.ScoreResult;
import io.policylong.model.tokenizer.CheckpointTokenizer;
import io.policylong.pipeline.config.Locations;
import io.policylong.pipeline.config.PipelineConfig;
import io.policylong.pipeline.staging.LocalStaging;
import io.policylong.pipeline.tasks.PolicyRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * Scoring on scoring servers ({@code scoring.backend: remote}), shared by every operator instance of a TaskManager:
 * one {@link ScoringClient} (one connection pool) and the tokenizers of the versions in use, read from the staged
 * checkpoint (the weights stay on the servers). At most {@code scoring.queue} requests are in flight per
 * TaskManager; beyond that {@link PolicyScorer#submit} blocks, which is the back-pressure a slow or absent server
 * puts on the job.
 */
public final class RemoteScoring implements ScoringBackend {
    private static final Map<Key, RemoteScoring> SERVICES = new HashMap<>();

    private record Key(PipelineConfig.Scoring scoring, int residentVersions, String cacheDirectory) {
    }

    private final Key key;
    private final ScoringClient client;
    private final LocalStaging staging;
    private final Semaphore inFlight;
    private final ExecutorService loader = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tokenizer-loader");
        t.setDaemon(true);
        return t;
    });
    private final TreeMap<Long, CompletableFuture<CheckpointTokenizer>> tokenizers = new TreeMap<>();
    private final Map<CheckpointTokenizer, Integer> holds = new java.util.IdentityHashMap<>();
    private final java.util.Set<CheckpointTokenizer> evicted = java.util.Collections.newSetFromMap(
            new java.util.IdentityHashMap<>());
    private int references;

    private RemoteScoring(Key key) {
        this.key = key;
        PipelineConfig.Remote remote = key.scoring().remote();
        this.client = new ScoringClient(remote.endpoints(), remote.modelName(), remote.requestTimeout(),
                token(remote.tokenFile()), key.scoring().retryDelay());
        this.staging = LocalStaging.forCache(key.cacheDirectory(), key.residentVersions() + 2);
        this.inFlight = new Semaphore(key.scoring().queueCapacity());
    }

    private static String token(String file) {
        if (file == null) {
            return null;
        }
        try {
            String token = Files.readString(Locations.localPath(file), StandardCharsets.UTF_8).strip();
            if (token.isEmpty()) {
                throw new IllegalArgumentException("scoring.token-file " + file + " is empty");
            }
            return token;
        } catch (IOException e) {
            throw new IllegalArgumentException("scoring.token-file " + file + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** The remote backend for this job's settings in this JVM, created on first use. */
    public static synchronized RemoteScoring acquire(PipelineConfig config) {
        RemoteScoring service = SERVICES.computeIfAbsent(new Key(config.scoring(), config.policy().residentVersions(),
                config.runtime().cacheDirectory()), RemoteScoring::new);
        service.references++;
        return service;
    }

    /** The client (metrics: requests, retries, servers down). */
    public ScoringClient client() {
        return client;
    }

    @Override
    public void release() {
        Map<Long, CompletableFuture<CheckpointTokenizer>> all;
        synchronized (RemoteScoring.class) {
            if (--references > 0) {
                return;
            }
            SERVICES.remove(key);
        }
        synchronized (this) {
            all = new TreeMap<>(tokenizers);
            tokenizers.clear();
        }
        all.values().forEach(f -> f.thenAccept(CheckpointTokenizer::close));
        client.close();
        loader.shutdown();
    }

    @Override
    public CompletableFuture<PolicyScorer> lease(PolicyRef policy) {
        return tokenizer(policy).thenApply(tokenizer -> {
            hold(tokenizer);
            return scorer(policy, tokenizer);
        });
    }

    private PolicyScorer scorer(PolicyRef policy, CheckpointTokenizer tokenizer) {
        java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
        return new PolicyScorer() {
            @Override
            public long version() {
                return policy.version();
            }

            @Override
            public CheckpointTokenizer tokenizer() {
                return tokenizer;
            }

            @Override
            public CompletableFuture<ScoreResult> submit(ScoreRequest request) throws InterruptedException {
                inFlight.acquire();
                CompletableFuture<ScoreResult> result;
                try {
                    result = client.score(policy.version(), policy.uri(), policy.sha256(), request);
                } catch (RuntimeException | Error e) {
                    inFlight.release();
                    throw e;
                }
                result.whenComplete((r, e) -> inFlight.release());
                return result;
            }

            @Override
            public void close() {
                if (closed.compareAndSet(false, true)) {
                    letGo(tokenizer); // the servers hold the weights; the tokenizer stays cached while its version is
                }
            }
        };
    }

    /** A lease holds its version's tokenizer: an evicted one is closed when the last lease lets go. */
    private synchronized void hold(CheckpointTokenizer tokenizer) {
        holds.merge(tokenizer, 1, Integer::sum);
    }

    private synchronized void letGo(CheckpointTokenizer tokenizer) {
        int left = holds.merge(tokenizer, -1, Integer::sum);
        if (left <= 0) {
            holds.remove(tokenizer);
            if (evicted.remove(tokenizer)) {
                tokenizer.close();
            }
        }
    }

    private synchronized void evicted(CheckpointTokenizer tokenizer) {
        if (holds.getOrDefault(tokenizer, 0) > 0) {
            evicted.add(tokenizer);
        } else {
            tokenizer.close();
        }
    }

    /** The version's tokenizer, from its staged checkpoint; the newest few versions stay cached. */
    private synchronized CompletableFuture<CheckpointTokenizer> tokenizer(PolicyRef policy) {
        CompletableFuture<CheckpointTokenizer> cached = tokenizers.get(policy.version());
        if (cached != null && !cached.isCompletedExceptionally()) {
            return cached;
        }
        CompletableFuture<CheckpointTokenizer> loading = CompletableFuture.supplyAsync(() -> {
            try {
                Path directory = staging.checkpoint(policy.version(), policy.uri(), policy.sha256());
                return CheckpointTokenizer.load(directory);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("the tokenizer of policy version " + policy.version()
                        + " could not be read: " + e.getMessage(), e);
            }
        }, loader);
        tokenizers.put(policy.version(), loading);
        while (tokenizers.size() > key.residentVersions() + 1) {
            // The lowest version other than the one asked for; its tokenizer is closed once no lease holds it.
            Long lowest = tokenizers.keySet().stream().filter(v -> v != policy.version()).findFirst().orElseThrow();
            tokenizers.remove(lowest).thenAccept(this::evicted);
        }
        return loading;
    }
}
