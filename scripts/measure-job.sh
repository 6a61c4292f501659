#!/usr/bin/env bash
# Measures the embedded screening job (the numbers in docs/benchmarks.md): the bare scorer on the screening
# input, then one run of the job that screens it under version 0, and under version 1 announced once the
# first samples are committed. Needs the corpus (bin/policylong corpus --out data/corpus), the index (built
# by the first `run`) and the jar.
# Usage: scripts/measure-job.sh CHECKPOINT_DIR NEXT_CHECKPOINT_DIR   (both with the index's tokenizer)
set -euo pipefail
cd "$(dirname "$0")/.."
current=${1:?usage: scripts/measure-job.sh CHECKPOINT_DIR NEXT_CHECKPOINT_DIR}
next=${2:?usage: scripts/measure-job.sh CHECKPOINT_DIR NEXT_CHECKPOINT_DIR}
work=${MEASURE_DIR:-out/measure}
rm -rf "$work" && mkdir -p "$work"

echo "== bare scorer on data/corpus/screen.jsonl"
bin/policylong score --checkpoint "$current" --input data/corpus/screen.jsonl \
    --output "$work/scores.jsonl" --device cpu 2>&1 | grep '^score:'

echo "== the job"
sed -e "s#initial-checkpoint: [^ ]*#initial-checkpoint: $current#" \
    -e "s#checkpoints: data/checkpoints#checkpoints: $work/checkpoints#" \
    -e "s#samples: out/samples#samples: $work/samples#" \
    -e "s#dead-letters: out/dead-letters#dead-letters: $work/dead-letters#" \
    -e "s#checkpoint-dir: out/flink#checkpoint-dir: $work/flink#" conf/local.yaml > "$work/job.yaml"
bin/policylong run --config "$work/job.yaml" --until-idle 20 > "$work/run.log" 2>&1 &
job=$!
until compgen -G "$work/samples/[!.]*" > /dev/null; do
    kill -0 "$job" 2> /dev/null || { cat "$work/run.log"; exit 1; }
    sleep 1
done
bin/policylong publish-checkpoint --dir "$next" --version 1 --announce-dir "$work/checkpoints" --run measure
wait "$job"
grep '^run:' "$work/run.log"
grep '^summary:' "$work/run.log" | tail -1
