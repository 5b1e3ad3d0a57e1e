#!/usr/bin/env bash
# Stops what start.sh started, by the PIDs it recorded, never by name. Keeps the state
# directory (images, registry storage) so the next start is quick; pass --clean to
# remove it too.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=$(realpath -m "${LAYERWASTE_SERVICES_DIR:-$repo/target/services}")

stop_pid() { # stop_pid PIDFILE MARKER: only if the process's command line names MARKER
  local pidfile=$1 marker=$2 pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$pidfile"
}

stop_pid "$state/registry-open/registry.pid" "$state/registry-open/config.yml"
stop_pid "$state/registry-auth/registry.pid" "$state/registry-auth/config.yml"
stop_pid "$state/podman/podman.pid" "$state/podman/podman.sock"
stop_pid "$state/ctrd/containerd.pid" "$state/ctrd/config.toml"
for d in "$repo/../shared/tools" /work/shared/tools; do
  if [ -x "$d/stop-dockerd.sh" ]; then "$d/stop-dockerd.sh" "$state/docker" >/dev/null; break; fi
done
rm -f "$state/services.env"
if [ "${1:-}" = --clean ]; then
  # containers/storage's overlay driver leaves its home bind-mounted on itself, and a
  # mount point cannot be removed: unmount what lies under the state, deepest first.
  awk -v s="$state/" 'index($2, s) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
  # vfs layers are plain directories owned by root; podman's storage may hold
  # read-only files, so make them writable before removing.
  chmod -R u+w "$state" 2>/dev/null
  rm -rf "$state"
fi
echo "services: stopped" >&2
