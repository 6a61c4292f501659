package io.policylong.connectors.files;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;
import java.util.PriorityQueue;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.assigners.FileSplitAssigner;

/**
 * Hands out file splits in the order of their file names, shorter names first: names that differ only in a
 * number ({@code policy-<version>.json}) come out in numeric order. Flink's default assigner hands out the
 * files of one directory listing in no particular order, so two policy descriptors published within one watch
 * interval could reach the job newest first, and the older one would then be rejected as not newer.
 */
public final class NameOrderedSplitAssigner implements FileSplitAssigner {
    /** Name length, then name, then the whole path (the same name in two directories), then offset. */
    static final Comparator<FileSourceSplit> ORDER = Comparator
            .comparingInt((FileSourceSplit s) -> s.path().getName().length())
            .thenComparing(s -> s.path().getName())
            .thenComparing(s -> s.path().toString())
            .thenComparingLong(FileSourceSplit::offset);

    private final PriorityQueue<FileSourceSplit> splits = new PriorityQueue<>(ORDER);

    /** An assigner starting with these splits (those restored from a checkpoint, say). */
    public NameOrderedSplitAssigner(Collection<FileSourceSplit> initial) {
        splits.addAll(initial);
    }

    @Override
    public Optional<FileSourceSplit> getNext(String hostname) {
        return Optional.ofNullable(splits.poll());
    }

    @Override
    public void addSplits(Collection<FileSourceSplit> newSplits) {
        splits.addAll(newSplits);
    }

    @Override
    public Collection<FileSourceSplit> remainingSplits() {
        return new ArrayList<>(splits);
    }
}
