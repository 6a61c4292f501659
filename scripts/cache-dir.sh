#!/usr/bin/env bash
# The cache directory of fetched data, one rule for the scripts and the Java commands (CacheDirectory):
# $POLICYLONG_CACHE, or $HOME/.cache/policylong. Sourced by the fetch scripts; run alone, it prints the directory.
policylong_cache="${POLICYLONG_CACHE:-$HOME/.cache/policylong}"
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  echo "$policylong_cache"
fi
