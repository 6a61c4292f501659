package io.policylong.pipeline.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.policylong.pipeline.operators.GrantedGpus;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.junit.jupiter.api.Test;

class ScoringDeviceTest {
    /** What Flink's GPU driver hands a TaskManager for each GPU it discovered: an {@code index} property. */
    private record FakeGpu(Map<String, String> properties) implements ExternalResourceInfo {
        @Override
        public Optional<String> getProperty(String key) {
            return Optional.ofNullable(properties.get(key));
        }

        @Override
        public Collection<String> getKeys() {
            return properties.keySet();
        }
    }

    private static List<String> granted(String... indices) {
        return GrantedGpus.indices(java.util.Arrays.stream(indices).map(i -> (ExternalResourceInfo) new FakeGpu(
                Map.of("index", i))).toList());
    }

    @Test
    void autoTakesTheFirstGrantedGpu() {
        assertEquals("gpu:0", ScoringDevice.choose("auto", granted("0")));
        assertEquals("gpu:1", ScoringDevice.choose("auto", granted("3", "1")), "the lowest index granted");
        assertEquals("gpu:2", ScoringDevice.choose(null, granted("2")), "auto is the default");
        assertEquals("gpu:0", ScoringDevice.choose(" AUTO ", granted("0")));
    }

    @Test
    void withoutAGrantedGpuOrWithAnExplicitDeviceNothingChanges() {
        assertEquals("auto", ScoringDevice.choose("auto", granted()));
        assertEquals("cpu", ScoringDevice.choose("cpu", granted("0")), "an explicit device wins");
        assertEquals("gpu:1", ScoringDevice.choose("gpu:1", granted("0")));
        assertEquals("auto", ScoringDevice.choose("auto", granted("not-a-number", "-1")), "unusable indices");
    }

    @Test
    void resourcesWithoutAnIndexPropertyAreSkipped() {
        List<String> indices = GrantedGpus.indices(Set.of(new FakeGpu(Map.of("uuid", "GPU-1")),
                new FakeGpu(Map.of("index", "4"))));
        assertEquals(List.of("4"), indices);
        assertEquals("gpu:4", ScoringDevice.choose("auto", indices));
    }
}
