#!/usr/bin/env bash
# Fetches one npm package tarball, verifies its SHA-256 and unpacks it into DEST (as DEST/package/...).
# Usage: scripts/npm-fetch.sh PACKAGE VERSION SHA256 DEST
# Does nothing when DEST/.complete records the same checksum. Needs npm on the PATH.
set -euo pipefail

package="$1" version="$2" sha256="$3" dest="$4"
if [[ -f "$dest/.complete" && "$(cat "$dest/.complete")" == "$sha256" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm-fetch: npm is needed to fetch $package@$version (install Node.js and npm)" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$package@$version" >/dev/null)
tarball="$(ls "$tmp"/*.tgz)"
echo "$sha256  $tarball" | sha256sum -c --quiet - || {
  echo "npm-fetch: checksum mismatch for $package@$version" >&2
  exit 1
}
rm -rf "$dest.part"
mkdir -p "$dest.part"
tar -xzf "$tarball" -C "$dest.part"
echo "$sha256" > "$dest.part/.complete"
rm -rf "$dest"
mv "$dest.part" "$dest"
echo "npm-fetch: $package@$version in $dest"
