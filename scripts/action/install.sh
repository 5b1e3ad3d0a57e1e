#!/usr/bin/env bash
# Builds layerwaste from the action's own checkout into ROOT/bin (only on a cache miss:
# the next run restores ROOT and compiles nothing).
set -euo pipefail
dest=$1
root=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v cargo >/dev/null || {
  echo "::error title=layerwaste::cargo is not installed on this runner (GitHub's ubuntu and macOS images have it)"
  exit 2
}
cargo install --locked --quiet --path "$root" --root "$dest"
"$dest/bin/layerwaste" --version
