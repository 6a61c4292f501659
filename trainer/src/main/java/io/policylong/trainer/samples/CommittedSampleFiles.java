package io.policylong.trainer.samples;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The committed part files of the job's samples directory, read in commit order and followed as new ones appear.
 * The job's file sink writes into hidden in-progress files ({@code .samples-...inprogress...}) and renames each to
 * its visible name ({@code samples-<uuid>-<n>.jsonl}) when the Flink checkpoint that covers it completes; a
 * visible file is complete and never changes again. So only visible {@code .jsonl} files are read, oldest
 * first, and the position is the number of lines read of each ({@link SamplesPosition}).
 */
public final class CommittedSampleFiles implements SampleLog {

    private final Path directory;
    private SamplesPosition position;

    /** A reader of {@code directory} that starts at {@code position}. */
    public CommittedSampleFiles(Path directory, SamplesPosition position) {
        this.directory = directory;
        this.position = position;
    }

    /** Where the reader stands (after the lines returned so far). */
    public SamplesPosition position() {
        return position;
    }

    /**
     * Up to {@code max} lines not read yet, from the committed files in commit order (blank lines are skipped
     * but counted); empty when nothing new is committed. A directory that does not exist yet holds nothing.
     */
    @Override
    public List<Line> next(int max) throws IOException {
        List<Line> lines = new ArrayList<>();
        for (Path file : committedFiles()) {
            if (lines.size() >= max) {
                break;
            }
            String name = file.getFileName().toString();
            long skip = position.linesRead(name);
            long number = 0;
            BufferedReader opened;
            try {
                opened = Files.newBufferedReader(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                continue;  // removed since it was listed
            }
            try (BufferedReader reader = opened) {
                String text;
                while (lines.size() < max && (text = reader.readLine()) != null) {
                    number++;
                    if (number <= skip) {
                        continue;
                    }
                    if (!text.isBlank()) {
                        lines.add(new Line(name, number, text, name + ":" + number));
                    }
                    position = position.with(name, number);
                }
            }
        }
        return lines;
    }

    /**
     * Visible part files, oldest first (modification time, then name). The order only decides what comes first:
     * the position is kept per file, so a file committed late with an early time is still read, once.
     */
    private List<Path> committedFiles() throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        record Committed(Path path, long modified) {
        }
        List<Committed> files = new ArrayList<>();
        try (Stream<Path> list = Files.list(directory)) {
            for (Path p : list.toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") || name.startsWith("_") || !name.endsWith(".jsonl") || !Files.isRegularFile(p)) {
                    continue;
                }
                try {
                    files.add(new Committed(p, Files.getLastModifiedTime(p).toMillis()));
                } catch (NoSuchFileException e) {
                    // Removed meanwhile (by a retention job, say): nothing left to read there.
                }
            }
        }
        files.sort(Comparator.comparingLong(Committed::modified).thenComparing(c -> c.path().getFileName().toString()));
        return files.stream().map(Committed::path).toList();
    }
}
