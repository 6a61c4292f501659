package io.policylong.pipeline.scoring;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a TaskManager's scorer runs. With {@code scoring.device: auto} and GPUs granted to the TaskManager by
 * Flink's external resource framework (resource name {@value #EXTERNAL_RESOURCE}, each with its {@code index}
 * property), the first granted GPU is used; Flink gives every operator of a TaskManager the same set, so all
 * operators share that one device. Any other setting, or no granted GPU, leaves the configured device as it is
 * ({@code auto} then takes the engine's first GPU, if any, or the CPU).
 */
public final class ScoringDevice {
    /** The external resource name the job reads its GPUs from ({@code external-resources: gpu}). */
    public static final String EXTERNAL_RESOURCE = "gpu";

    private ScoringDevice() {
    }

    /**
     * The device specification to resolve.
     *
     * @param configured {@code scoring.device}
     * @param grantedGpus the {@code index} properties of the GPUs granted to this TaskManager (may be empty)
     */
    public static String choose(String configured, List<String> grantedGpus) {
        boolean auto = configured == null || configured.trim().toLowerCase(Locale.ROOT).equals("auto");
        if (!auto) {
            return configured;
        }
        Optional<Integer> first = grantedGpus.stream().map(ScoringDevice::index).flatMap(Optional::stream)
                .min(Comparator.naturalOrder());
        return first.map(i -> "gpu:" + i).orElse("auto");
    }

    private static Optional<Integer> index(String property) {
        try {
            int i = Integer.parseInt(property.trim());
            return i >= 0 ? Optional.of(i) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty(); // not a device index (a driver reporting something else): not usable
        }
    }
}
