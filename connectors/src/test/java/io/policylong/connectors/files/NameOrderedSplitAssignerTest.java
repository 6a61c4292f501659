package io.policylong.connectors.files;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.core.fs.Path;
import org.junit.jupiter.api.Test;

class NameOrderedSplitAssignerTest {
    private static FileSourceSplit split(String path) {
        return new FileSourceSplit(path, new Path(path), 0, 10, 0, 10);
    }

    private static List<String> drain(NameOrderedSplitAssigner assigner) {
        List<String> names = new ArrayList<>();
        for (Optional<FileSourceSplit> s = assigner.getNext(null); s.isPresent(); s = assigner.getNext(null)) {
            names.add(s.get().path().getName());
        }
        return names;
    }

    @Test
    void descriptorsOfOneListingComeOutOldestVersionFirst() {
        NameOrderedSplitAssigner assigner = new NameOrderedSplitAssigner(List.of(split("/c/policy-000000000003.json")));
        assigner.addSplits(List.of(split("/c/policy-1000000000000.json"), split("/c/policy-000000000001.json"),
                split("/c/policy-000000000002.json")));
        assertEquals(4, assigner.remainingSplits().size());
        assertEquals(List.of("policy-000000000001.json", "policy-000000000002.json", "policy-000000000003.json",
                "policy-1000000000000.json"), drain(assigner));
        assertEquals(0, assigner.remainingSplits().size());
    }

    @Test
    void splitsAddedLaterJoinTheOrder() {
        NameOrderedSplitAssigner assigner = new NameOrderedSplitAssigner(List.of());
        assigner.addSplits(List.of(split("/c/policy-000000000007.json")));
        assigner.addSplits(List.of(split("/c/policy-000000000005.json"), split("/d/policy-000000000005.json")));
        assertEquals(List.of("policy-000000000005.json", "policy-000000000005.json", "policy-000000000007.json"),
                drain(assigner));
    }
}
