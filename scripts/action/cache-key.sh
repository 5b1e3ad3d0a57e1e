#!/usr/bin/env bash
# The cache key of the installed binary: the runner's OS and architecture, and a hash
# of everything that goes into the build (Cargo.lock, Cargo.toml, src/). actions/cache's
# hashFiles() sees only the workspace, not the action's own checkout, hence this script.
# Writes `key=…` to $GITHUB_OUTPUT (or stdout).
set -euo pipefail
root=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
hash=$(
  { printf '%s\n' Cargo.lock Cargo.toml; find src -type f | LC_ALL=C sort; } |
    while read -r f; do printf '%s ' "$f"; sha256sum < "$f"; done |
    sha256sum | cut -c1-32
)
key="layerwaste-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}-$hash"
echo "key=$key" >> "${GITHUB_OUTPUT:-/dev/stdout}"
