package io.policylong.trainer.samples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.policylong.records.InvalidRecordException;
import io.policylong.records.TrainingSample;
import io.policylong.trainer.data.BatchSource;
import io.policylong.trainer.data.PackedBatch;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The trainer's batches from the job's samples as they are committed (a directory or a topic): one sample per row ({@link SampleRows},
 * {@link SampleBatches}), each fresh sample used once in commit order, mixed with a bounded replay of recent ones
 * ({@code replay}: the chance that a row is a replayed sample rather than a fresh one). When no fresh sample is
 * committed yet the stream waits, saying so now and then, up to {@code waitLimit}. Lines that are not samples, or
 * whose tokens fall outside the vocabulary, are reported with their file and line and skipped. The position saved
 * with a checkpoint counts only the samples trained on, so a continued run goes on with the next one.
 *
 * <p>With {@link #holdingOut}, the first samples of distinct documents are set aside for evaluation instead, and no
 * sample of those documents (under any version) is ever trained on, so that their loss measures what the trainer
 * learned rather than what it saw.
 */
public final class SampleStream implements BatchSource, AutoCloseable {
    /** Lines read ahead from the committed files at a time. */
    private static final int READ_AHEAD = 64;

    private final SampleLog files;
    private final SampleRows rows;
    private final int vocabSize;
    private final double anchorLossWeight;
    private final double replay;
    private final int replayCapacity;
    private final Duration pollInterval;
    private final Duration waitLimit;
    private final Consumer<String> console;
    private final SplittableRandom random;

    private final Deque<SampleLog.Line> ahead = new ArrayDeque<>();
    private final List<SampleRow> replayed = new ArrayList<>();
    private final Map<Long, Long> versions = new TreeMap<>();
    private SamplesPosition consumed;
    private long rowsProduced;
    private long freshRows;
    private long cutRows;
    private long staleSkipped;
    private long reusedRows;
    private int replayNext;
    private Duration reuseAfter;
    private final List<SampleRow> newestRows = new ArrayList<>();
    private long newestVersion = Long.MIN_VALUE;
    private java.util.function.LongSupplier minimumVersion = () -> Long.MIN_VALUE;
    private int heldOutWanted;
    private final List<String> heldOutLines = new ArrayList<>();
    private final List<SampleRow> heldOutRows = new ArrayList<>();
    private final Set<String> heldOutDocuments = new HashSet<>();
    private long heldOutSkipped;

    /**
     * @param start the position to go on from (what the checkpoint being continued recorded)
     * @param replay the chance in [0, 1) that a row replays a recent sample
     * @param replayCapacity how many recent samples are kept for replay
     * @param waitLimit how long to wait for a fresh sample before the stream ends, or null to wait for ever
     */
    public SampleStream(SampleLog files, SamplesPosition start, SampleRows rows, int vocabSize,
            double anchorLossWeight, double replay, int replayCapacity, long seed, Duration pollInterval,
            Duration waitLimit, Consumer<String> console) {
        if (!(replay >= 0 && replay < 1)) {
            throw new IllegalArgumentException("--replay must be in [0, 1), not " + replay);
        }
        if (replayCapacity < 1) {
            throw new IllegalArgumentException("the replay buffer needs room for at least one sample");
        }
        this.files = files;
        this.consumed = start;
        this.rows = rows;
        this.vocabSize = vocabSize;
        this.anchorLossWeight = anchorLossWeight;
        this.replay = replay;
        this.replayCapacity = replayCapacity;
        this.pollInterval = pollInterval;
        this.waitLimit = waitLimit;
        this.console = console;
        this.random = new SplittableRandom(seed);
    }

    /**
     * Trains on fresh samples of at least this version only (read when each sample comes up): older ones are
     * skipped, counted as stale. The trainer passes the version it announced last, so that every row is screened
     * by its newest checkpoint (replayed samples aside).
     */
    public SampleStream withMinimumVersion(java.util.function.LongSupplier minimum) {
        this.minimumVersion = minimum;
        return this;
    }

    /**
     * When no fresh sample has come for {@code after}, trains again on the samples of the newest version already
     * used (drawn at random with the stream's seed, counted as reused) rather than wait: the job may have screened
     * everything under that version.
     * Samples older than the minimum version are never reused.
     */
    public SampleStream reusingNewestAfter(Duration after) {
        this.reuseAfter = after;
        return this;
    }

    /**
     * Sets the first {@code samples} samples of distinct documents aside for evaluation ({@link #heldOutBatches})
     * and never trains on a sample of their documents. A continued run takes the same samples back from the
     * {@code resumeState} its checkpoint recorded (null for a fresh start).
     */
    public SampleStream holdingOut(int samples, JsonNode resumeState) {
        if (samples < 0) {
            throw new IllegalArgumentException("held-out samples must be 0 or more, not " + samples);
        }
        this.heldOutWanted = samples;
        if (resumeState != null) {
            for (JsonNode text : resumeState.path("held_out_samples")) {
                SampleLog.Line line = new SampleLog.Line(null, 0, text.asText(), "a held-out sample of the checkpoint");
                TrainingSample sample = parse(line);
                SampleRow row = sample == null ? null : row(sample, line);
                if (row != null) {
                    setAside(sample, row, line.text());
                }
            }
        }
        return this;
    }

    private void setAside(TrainingSample sample, SampleRow row, String text) {
        heldOutLines.add(text);
        heldOutRows.add(row);
        heldOutDocuments.add(sample.documentId());
    }

    /** The held-out samples as batches of up to {@code rows} rows, their loss unweighted; empty without any. */
    @Override
    public List<PackedBatch> heldOutBatches(int rows) {
        List<PackedBatch> batches = new ArrayList<>();
        for (int i = 0; i < heldOutRows.size(); i += rows) {
            batches.add(SampleBatches.of(heldOutRows.subList(i, Math.min(heldOutRows.size(), i + rows)), 1));
        }
        return batches;
    }

    /** Samples set aside for evaluation so far. */
    public int heldOutSamples() {
        return heldOutRows.size();
    }

    /** Samples skipped because their document's first sample is held out. */
    public long heldOutSkipped() {
        return heldOutSkipped;
    }

    @Override
    public PackedBatch next(int count) throws IOException, InterruptedException {
        List<SampleRow> batch = new ArrayList<>(count);
        while (batch.size() < count) {
            SampleRow row = !replayed.isEmpty() && replay > 0 && random.nextDouble() < replay
                    ? replayed.get(random.nextInt(replayed.size()))
                    : fresh();
            batch.add(row);
            versions.merge(row.policyVersion(), 1L, Long::sum);
        }
        rowsProduced += count;
        return SampleBatches.of(batch, anchorLossWeight);
    }

    /** The next committed sample not trained on yet, waiting for one when there is none. */
    private SampleRow fresh() throws IOException, InterruptedException {
        long waitStart = System.nanoTime();
        long lastNotice = waitStart;
        while (true) {
            if (ahead.isEmpty()) {
                ahead.addAll(files.next(READ_AHEAD));
            }
            while (!ahead.isEmpty()) {
                SampleLog.Line line = ahead.poll();
                consumed = consumed.with(line.part(), line.position());
                TrainingSample sample = parse(line);
                SampleRow row = sample == null ? null : row(sample, line);
                if (row != null && heldOutDocuments.contains(sample.documentId())) {
                    heldOutSkipped++;
                    continue;
                }
                if (row != null && heldOutRows.size() < heldOutWanted) {
                    setAside(sample, row, line.text());
                    continue;
                }
                if (row != null && row.policyVersion() < minimumVersion.getAsLong()) {
                    staleSkipped++;
                    continue;
                }
                if (row != null) {
                    freshRows++;
                    if (row.cut()) {
                        cutRows++;
                    }
                    remember(row);
                    if (row.policyVersion() > newestVersion) {
                        newestVersion = row.policyVersion();
                        newestRows.clear();
                    }
                    if (row.policyVersion() == newestVersion) {
                        newestRows.add(row);
                    }
                    return row;
                }
            }
            long now = System.nanoTime();
            if (reuseAfter != null && now - waitStart >= reuseAfter.toNanos() && !newestRows.isEmpty()
                    && newestVersion >= minimumVersion.getAsLong()) {
                reusedRows++;
                return newestRows.get(random.nextInt(newestRows.size()));
            }
            if (waitLimit != null && now - waitStart >= waitLimit.toNanos()) {
                throw new SourceExhaustedException("no new sample committed for " + waitLimit.toSeconds()
                        + " s after " + freshRows + " samples");
            }
            if (now - lastNotice >= Duration.ofSeconds(60).toNanos()) {
                console.accept(String.format("samples: waiting for newly committed samples (%d read so far)",
                        freshRows));
                lastNotice = now;
            }
            Thread.sleep(pollInterval.toMillis());
        }
    }

    private TrainingSample parse(SampleLog.Line line) {
        try {
            return TrainingSample.fromJson(line.text());
        } catch (InvalidRecordException e) {
            console.accept("samples: skipped " + line.origin() + ": " + e.getMessage());
            return null;
        }
    }

    private SampleRow row(TrainingSample sample, SampleLog.Line line) {
        try {
            SampleRow row = rows.row(sample);
            for (long id : row.tokens()) {
                if (id < 0 || id >= vocabSize) {
                    throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocabSize
                            + ")");
                }
            }
            if (row.length() < 2) {
                throw new IllegalArgumentException("fewer than 2 tokens");
            }
            return row;
        } catch (IllegalArgumentException e) {
            console.accept("samples: skipped " + line.origin() + ": " + e.getMessage());
            return null;
        }
    }

    private void remember(SampleRow row) {
        if (replay <= 0) {
            return;
        }
        if (replayed.size() < replayCapacity) {
            replayed.add(row);
        } else {
            replayed.set(replayNext, row);
            replayNext = (replayNext + 1) % replayCapacity;
        }
    }

    @Override
    public long rowsProduced() {
        return rowsProduced;
    }

    /** Fresh samples trained on so far (each once). */
    public long freshRows() {
        return freshRows;
    }

    /** Fresh samples skipped because an older version than the minimum screened them. */
    public long staleSkipped() {
        return staleSkipped;
    }

    /** Rows that reused a sample of the newest version (see {@link #reusingNewestAfter}). */
    public long reusedRows() {
        return reusedRows;
    }

    /** Fresh samples that had to be cut to fit the longest row. */
    public long cutRows() {
        return cutRows;
    }

    @Override
    public long tokens(PackedBatch batch) {
        long tokens = 0;
        for (long segment : batch.segments()) {
            if (segment == 0) {
                tokens++;
            }
        }
        return tokens;
    }

    /**
     * {@code {"samples_position": {...}, "fresh_samples": n, "cut_samples": n, "stale_samples_skipped": n,
     * "reused_samples": n, "held_out_samples": ["<sample JSON>", ...], "held_out_skipped": n}}.
     */
    @Override
    public JsonNode resumeState() {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.set("samples_position", consumed.toJson());
        node.put("fresh_samples", freshRows);
        node.put("cut_samples", cutRows);
        node.put("stale_samples_skipped", staleSkipped);
        node.put("reused_samples", reusedRows);
        var heldOut = node.putArray("held_out_samples");
        heldOutLines.forEach(heldOut::add);
        node.put("held_out_skipped", heldOutSkipped);
        return node;
    }

    /** The position to continue from, as {@link #resumeState} wrote it (the start when there is none). */
    public static SamplesPosition positionOf(JsonNode resumeState) {
        return resumeState == null ? SamplesPosition.start()
                : SamplesPosition.fromJson(resumeState.path("samples_position"));
    }

    /** Closes the sample log (the topic's consumer). */
    @Override
    public void close() {
        files.close();
    }

    @Override
    public Map<Long, Long> takeVersions() {
        Map<Long, Long> taken = Map.copyOf(versions);
        versions.clear();
        return taken;
    }
}
