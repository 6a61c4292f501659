package io.policylong.pipeline.operators;

import io.policylong.pipeline.scoring.ScoringDevice;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.functions.RuntimeContext;

/** The GPU indices Flink's external resource framework granted to the TaskManager an operator runs in. */
public final class GrantedGpus {
    private GrantedGpus() {
    }

    /** The {@code index} properties of the granted GPUs; none where the resource is not configured. */
    public static List<String> of(RuntimeContext context) {
        try {
            return indices(context.getExternalResourceInfos(ScoringDevice.EXTERNAL_RESOURCE));
        } catch (UnsupportedOperationException e) {
            return List.of(); // a context without external resources (an operator test harness)
        }
    }

    /** The {@code index} property of each resource that has one. */
    public static List<String> indices(Collection<ExternalResourceInfo> resources) {
        return resources.stream().map(r -> r.getProperty("index")).flatMap(Optional::stream).toList();
    }
}
