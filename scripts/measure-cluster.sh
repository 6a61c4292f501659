#!/usr/bin/env bash
# Measures the screening job on a standalone Flink cluster of two TaskManager processes (the cluster figures in
# docs/benchmarks.md), next to the embedded runner on the same input and checkpoints: the bare scorer, the
# embedded job (scripts/measure-job.sh) and the cluster job at parallelism 2 (ClusterJobBenchmarkTest). Version 1
# is the bundled model exported to float32 (same predictions, other weights file), announced once the first
# samples are committed. Needs the corpus and index of the embedded default (run the README's main command once).
# Usage: scripts/measure-cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=out/measure-cluster
rm -rf "$work" && mkdir -p "$work"
bin/policylong export-checkpoint --from models/byte-lm-4m --out "$work/v1" --dtype f32 > /dev/null

echo "== embedded runner (mini cluster, parallelism 1)"
MEASURE_DIR="$work/embedded" scripts/measure-job.sh models/byte-lm-4m "$work/v1"

echo "== standalone cluster (2 TaskManagers, parallelism 2)"
mvn -B verify -pl system-tests -am -Dgroups=benchmark -DexcludedGroups=none -Dsurefire.failIfNoSpecifiedTests=false \
    -Dtest=ClusterJobBenchmarkTest -Dpolicylong.benchmark.v1="$PWD/$work/v1" 2>&1 | grep '^benchmark:'
