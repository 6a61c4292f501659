package io.policylong.report;

import io.policylong.records.Anchor;
import io.policylong.records.AnchorGain;
import io.policylong.records.SampleSegment;
import io.policylong.records.TrainingSample;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The per-version curriculum of a run, computed once from its samples: what each version found, and what changed
 * from the version before on the documents sampled under both (positives that stopped being positive, anchors
 * that were learned, hard negatives that turned positive). When a document was sampled more than once under a
 * version (screened again after a restart, say), its last sample counts.
 */
public final class CurriculumStats {
    private CurriculumStats() {
    }

    /** The curriculum of these samples, one entry per version in ascending order. */
    public static List<VersionCurriculum> of(Collection<TrainingSample> samples) {
        Map<Long, Map<String, TrainingSample>> byVersion = new TreeMap<>();
        Map<Long, Integer> written = new HashMap<>();
        for (TrainingSample s : samples) {
            byVersion.computeIfAbsent(s.policyVersion(), v -> new HashMap<>()).put(s.documentId(), s);
            written.merge(s.policyVersion(), 1, Integer::sum);
        }
        List<VersionCurriculum> result = new ArrayList<>();
        Map<String, TrainingSample> previous = null;
        for (Map.Entry<Long, Map<String, TrainingSample>> e : byVersion.entrySet()) {
            Map<String, TrainingSample> current = e.getValue();
            result.add(version(e.getKey(), written.get(e.getKey()), current, previous));
            previous = current;
        }
        return result;
    }

    private static VersionCurriculum version(long version, int written, Map<String, TrainingSample> current,
            Map<String, TrainingSample> previous) {
        int anchors = 0;
        double entropy = 0;
        int positives = 0;
        int hardNegatives = 0;
        List<Double> positiveGains = new ArrayList<>();
        List<Double> hardNegativeGains = new ArrayList<>();
        for (TrainingSample s : current.values()) {
            for (Anchor a : s.anchors()) {
                anchors++;
                entropy += a.entropy();
            }
            for (SampleSegment segment : s.segments()) {
                if (segment.role() == SampleSegment.Role.POSITIVE) {
                    positives++;
                    positiveGains.add(bestGain(segment));
                } else if (segment.role() == SampleSegment.Role.HARD_NEGATIVE) {
                    hardNegatives++;
                    hardNegativeGains.add(bestGain(segment));
                }
            }
        }
        int n = current.size();
        Set<String> compared = new HashSet<>(current.keySet());
        if (previous != null) {
            compared.retainAll(previous.keySet());
        } else {
            compared.clear();
        }
        double noLongerPositive = Double.NaN;
        double nowPositive = Double.NaN;
        double learned = Double.NaN;
        double fresh = Double.NaN;
        if (!compared.isEmpty()) {
            Set<String> before = new HashSet<>();
            Set<String> beforeNegatives = new HashSet<>();
            Set<String> beforeAnchors = new HashSet<>();
            Set<String> after = new HashSet<>();
            Set<String> afterAnchors = new HashSet<>();
            for (String doc : compared) {
                before.addAll(contexts(previous.get(doc), SampleSegment.Role.POSITIVE));
                beforeNegatives.addAll(contexts(previous.get(doc), SampleSegment.Role.HARD_NEGATIVE));
                beforeAnchors.addAll(anchors(previous.get(doc)));
                after.addAll(contexts(current.get(doc), SampleSegment.Role.POSITIVE));
                afterAnchors.addAll(anchors(current.get(doc)));
            }
            noLongerPositive = shareNotIn(before, after);
            nowPositive = shareIn(beforeNegatives, after);
            learned = shareNotIn(beforeAnchors, afterAnchors);
            fresh = shareNotIn(afterAnchors, beforeAnchors);
        }
        return new VersionCurriculum(version, written, n, n == 0 ? 0 : (double) anchors / n,
                anchors == 0 ? Double.NaN : entropy / anchors, n == 0 ? 0 : (double) positives / n,
                n == 0 ? 0 : (double) hardNegatives / n, Distribution.of(positiveGains),
                Distribution.of(hardNegativeGains), compared.size(), noLongerPositive, nowPositive, learned, fresh);
    }

    /** A context's dI: its best gain over the anchors it was verified on. */
    private static double bestGain(SampleSegment segment) {
        double best = Double.NEGATIVE_INFINITY;
        for (AnchorGain g : segment.gains()) {
            best = Math.max(best, g.gain());
        }
        return segment.gains().isEmpty() ? Double.NaN : best;
    }

    /** {@code document|chunk} of the contexts of a role. */
    private static Set<String> contexts(TrainingSample s, SampleSegment.Role role) {
        Set<String> keys = new HashSet<>();
        for (SampleSegment segment : s.segments()) {
            if (segment.role() == role) {
                keys.add(s.documentId() + "|" + segment.sourceId());
            }
        }
        return keys;
    }

    /** {@code document|position} of a sample's anchors. */
    private static Set<String> anchors(TrainingSample s) {
        Set<String> keys = new HashSet<>();
        for (Anchor a : s.anchors()) {
            keys.add(s.documentId() + "|" + a.position());
        }
        return keys;
    }

    /** Share of {@code of} that is not in {@code in}; NaN when {@code of} is empty. */
    private static double shareNotIn(Set<String> of, Set<String> in) {
        if (of.isEmpty()) {
            return Double.NaN;
        }
        long missing = of.stream().filter(k -> !in.contains(k)).count();
        return (double) missing / of.size();
    }

    /** Share of {@code of} that is in {@code in}; NaN when {@code of} is empty. */
    private static double shareIn(Set<String> of, Set<String> in) {
        return of.isEmpty() ? Double.NaN : 1 - shareNotIn(of, in);
    }
}
