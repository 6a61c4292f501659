package io.policylong.trainer.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the part files of the job's file sink: committed ones only, followed, resumed exactly. */
class CommittedSampleFilesTest {
    private static List<String> texts(List<SampleLog.Line> lines) {
        return lines.stream().map(SampleLog.Line::text).toList();
    }

    /** Writes an in-progress file the way the sink does, then commits it by renaming it to its visible name. */
    private static Path commit(Path dir, String name, long modified, String... lines) throws Exception {
        Path hidden = dir.resolve("." + name + ".inprogress.0b6f");
        Files.write(hidden, List.of(lines));
        Files.setLastModifiedTime(hidden, FileTime.fromMillis(modified));
        return Files.move(hidden, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void onlyCommittedFilesAreReadAndNewOnesAreFollowed(@TempDir Path root) throws Exception {
        Path dir = root.resolve("samples");
        CommittedSampleFiles files = new CommittedSampleFiles(dir, SamplesPosition.start());
        assertEquals(List.of(), files.next(10), "no directory yet: nothing");
        Files.createDirectories(dir);
        commit(dir, "samples-a-0.jsonl", 1000, "a1", "a2");
        Files.write(dir.resolve(".samples-b-0.jsonl.inprogress.77"), List.of("in progress"));
        Files.write(dir.resolve("_SUCCESS"), List.of("marker"));
        assertEquals(List.of("a1", "a2"), texts(files.next(10)));
        assertEquals(List.of(), files.next(10));
        commit(dir, "samples-b-0.jsonl", 2000, "b1", "", "b3");
        List<SampleLog.Line> lines = files.next(10);
        assertEquals(List.of("b1", "b3"), texts(lines));
        assertEquals("samples-b-0.jsonl:3", lines.get(1).origin());
        assertEquals(3, lines.get(1).position());
        assertEquals(5, files.position().total(), "blank lines are counted, not returned");
    }

    @Test
    void aResumedReaderNeitherRepeatsNorSkips(@TempDir Path dir) throws Exception {
        commit(dir, "samples-x-0.jsonl", 1000, "x1", "x2", "x3");
        commit(dir, "samples-y-0.jsonl", 2000, "y1", "y2");
        List<String> read = new ArrayList<>();
        CommittedSampleFiles first = new CommittedSampleFiles(dir, SamplesPosition.start());
        read.addAll(texts(first.next(2)));
        // The position as a checkpoint's trainer state keeps it, through JSON.
        String saved = new ObjectMapper().writeValueAsString(first.position().toJson());
        // Meanwhile a file committed by another subtask, with an older time than the ones read.
        commit(dir, "samples-w-0.jsonl", 500, "w1");
        CommittedSampleFiles resumed = new CommittedSampleFiles(dir,
                SamplesPosition.fromJson(new ObjectMapper().readTree(saved)));
        List<SampleLog.Line> rest;
        while (!(rest = resumed.next(2)).isEmpty()) {
            read.addAll(texts(rest));
        }
        assertEquals(List.of("x1", "x2", "w1", "x3", "y1", "y2"), read);
        assertEquals(6, resumed.position().total());
    }
}
