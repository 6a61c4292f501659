#!/usr/bin/env bash
# Measures the screening job through Kafka (the numbers in docs/benchmarks.md), next to scripts/measure-job.sh:
# a local broker, data/corpus/screen.jsonl produced to the documents topic, the job of conf/local.yaml's
# settings on Kafka with CHECKPOINT as version 0, and NEXT_CHECKPOINT announced on the policies topic
# ANNOUNCE_AFTER seconds (default 100) after the job starts. The job prints its throughput and the time
# from each announcement to the first committed screening under it.
# Usage: scripts/measure-kafka.sh CHECKPOINT_DIR NEXT_CHECKPOINT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
current=${1:?usage: scripts/measure-kafka.sh CHECKPOINT_DIR NEXT_CHECKPOINT_DIR}
next=${2:?usage: scripts/measure-kafka.sh CHECKPOINT_DIR NEXT_CHECKPOINT_DIR}
work=${MEASURE_DIR:-out/measure-kafka}
port=${KAFKA_PORT:-19092}
rm -rf "$work" && mkdir -p "$work"

bin/policylong broker --data "$work/kafka" --port "$port" > "$work/broker.log" 2>&1 &
broker=$!
trap 'kill $broker 2> /dev/null || true' EXIT
until grep -q "listening" "$work/broker.log"; do
    kill -0 "$broker" 2> /dev/null || { cat "$work/broker.log"; exit 1; }
    sleep 1
done

# conf/local.yaml with Kafka in and out (and its policy directory left out).
sed -e '/^input:/,/^[a-z]/{/documents:/d;/watch:/d}' -e '/^output:/,/^$/d' \
    -e "s#checkpoint-dir: out/flink#checkpoint-dir: $work/flink#" \
    -e '/^policy:/,/^$/{/checkpoints:/d;/initial-checkpoint:/d}' conf/local.yaml > "$work/job.yaml"
cat >> "$work/job.yaml" <<YAML

kafka:
  bootstrap-servers: 127.0.0.1:$port
YAML
bin/policylong produce-corpus --kafka "127.0.0.1:$port" data/corpus/screen.jsonl 2>&1 | grep '^produce-corpus'
bin/policylong publish-checkpoint --dir "$current" --version 0 --kafka "127.0.0.1:$port" --run measure > /dev/null
bin/policylong run --config "$work/job.yaml" --until-idle 20 > "$work/run.log" 2>&1 &
job=$!
sleep "${ANNOUNCE_AFTER:-100}"
bin/policylong publish-checkpoint --dir "$next" --version 1 --kafka "127.0.0.1:$port" --run measure > /dev/null
wait "$job"
grep '^run:' "$work/run.log"
grep '^summary:' "$work/run.log" | tail -1
