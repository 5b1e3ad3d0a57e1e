#!/usr/bin/env bash
# Makes sure Debian's headless-capable `chromium` is installed, for the HTML report's
# browser tests (tests/integration/html.rs), and prints its path. Called by start.sh,
# which writes the path to services.env as LAYERWASTE_CHROMIUM; also usable alone.
#
# Environment:
#   LAYERWASTE_SERVICES_NO_APT=1   never apt-get install; fail if chromium is missing
set -euo pipefail
log() { echo "services: $*" >&2; }

find_chromium() {
  command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null || true
}

path=$(find_chromium)
if [ -z "$path" ]; then
  [ "${LAYERWASTE_SERVICES_NO_APT:-0}" = 1 ] && { log "missing: chromium"; exit 1; }
  log "installing chromium (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # fonts-dejavu-core: a page with no web fonts still needs one system font to draw its
  # text; --no-install-recommends would otherwise leave none.
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  path=$(find_chromium)
fi
[ -n "$path" ] || { log "chromium is still missing after apt-get install"; exit 1; }
echo "$path"
