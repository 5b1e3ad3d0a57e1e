#!/usr/bin/env bash
# The action's body (action.yml passes the inputs as LW_* variables). Runs from the
# workspace, as a composite step does. Three renderings of one image, each its own run
# of `layerwaste analyze` sharing a layer cache (--cache), so layers are read once:
#   1. the gate, SARIF to LW_SARIF_FILE and the JSON report to LW_JSON_FILE;
#   2. Markdown appended to $GITHUB_STEP_SUMMARY;
#   3. annotations (::warning/::error/::notice) on stdout, where the runner reads them.
# A name in the runner's Docker is saved to a file once first (docker save), so the
# three runs read a file, in parallel, not three exports.
# Then, with LW_BASE_IMAGE, `layerwaste diff` into the summary. Outputs go to
# $GITHUB_OUTPUT. Exit: 2 on an error, 1 when a gate is crossed (and LW_FAIL_ON_GATE),
# else 0.
set -uo pipefail

tmp=${RUNNER_TEMP:-$(mktemp -d)}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}
outputs=${GITHUB_OUTPUT:-/dev/null}
is_true() { case "${1,,}" in true | yes | 1) return 0 ;; *) return 1 ;; esac; }

if [ -z "${LW_IMAGE:-}" ]; then
  echo "::error title=layerwaste::the image input is empty"
  exit 2
fi

# A file, docker://REF and transport names pass as they are; a name the runner's
# Docker knows is saved once.
saved=0
resolve() {
  local spec=$1
  if [ -e "$spec" ] || [[ "$spec" == docker://* || "$spec" == oci:* || "$spec" == oci-archive:* ||
    "$spec" == docker-archive:* || "$spec" == - ]]; then
    printf '%s\n' "$spec"
    return
  fi
  local name=${spec#docker-daemon:}
  if command -v docker >/dev/null && docker image inspect "$name" >/dev/null 2>&1; then
    saved=$((saved + 1))
    local file="$tmp/layerwaste-image-$saved.tar"
    if docker save -o "$file" "$name"; then
      printf '%s\n' "$file"
      return
    fi
  fi
  # Let layerwaste ask the engine itself (and say what is wrong if it cannot).
  printf '%s\n' "$spec"
}

image=$(resolve "$LW_IMAGE")
gate=()
[ -n "${LW_MAX_WASTED:-}" ] && gate+=(--max-wasted "$LW_MAX_WASTED")
[ -n "${LW_MAX_WASTED_PERCENT:-}" ] && gate+=(--max-wasted-percent "$LW_MAX_WASTED_PERCENT")
[ -n "${LW_MIN_EFFICIENCY:-}" ] && gate+=(--min-efficiency "$LW_MIN_EFFICIENCY")
[ -n "${LW_MAX_STEP_WASTED:-}" ] && gate+=(--max-step-wasted "$LW_MAX_STEP_WASTED")
[ -n "${LW_BASE:-}" ] && gate+=(--base "$LW_BASE")
[ -n "${LW_CONFIG:-}" ] && gate+=(--config "$LW_CONFIG")
common=(--quiet --color never --cache "$tmp/layerwaste-cache")
[ -n "${LW_DOCKERFILE:-}" ] && common+=(--dockerfile "$LW_DOCKERFILE")

json=${LW_JSON_FILE:-}
[ -n "$json" ] || json="$tmp/layerwaste-report.json"
sarif=${LW_SARIF_FILE:-}

errors="$tmp/layerwaste-stderr.txt"
layerwaste analyze "$image" "${common[@]}" "${gate[@]}" --format sarif --output "$json" \
  > "${sarif:-/dev/null}"
gate_code=$?
if [ "$gate_code" -ge 2 ]; then
  echo "::error title=layerwaste::layerwaste could not analyse $LW_IMAGE (exit $gate_code); see the log above"
  exit 2
fi

if is_true "${LW_SUMMARY:-true}"; then
  layerwaste analyze "$image" "${common[@]}" "${gate[@]}" --format markdown >> "$summary" 2> "$errors"
  [ $? -ge 2 ] && { cat "$errors" >&2; exit 2; }
fi
if is_true "${LW_ANNOTATIONS:-true}"; then
  layerwaste analyze "$image" "${common[@]}" "${gate[@]}" --format github 2> "$errors"
  [ $? -ge 2 ] && { cat "$errors" >&2; exit 2; }
fi

diff_code=0
if [ -n "${LW_BASE_IMAGE:-}" ]; then
  old=$(resolve "$LW_BASE_IMAGE")
  increase=()
  [ -n "${LW_FAIL_ON_INCREASE:-}" ] && increase=("--fail-on-increase=$LW_FAIL_ON_INCREASE")
  target=$summary
  is_true "${LW_SUMMARY:-true}" || target=/dev/stdout
  { echo; layerwaste diff "$old" "$image" --quiet --format markdown "${increase[@]}" \
      --output "$tmp/layerwaste-diff.json"; } >> "$target"
  diff_code=$?
  if [ "$diff_code" -ge 2 ]; then
    echo "::error title=layerwaste::layerwaste could not compare $LW_BASE_IMAGE with $LW_IMAGE (exit $diff_code)"
    exit 2
  fi
fi

field() {
  if command -v jq >/dev/null; then
    jq -r "$1 // empty" "$json"
  else
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); p=sys.argv[2].split(".")[1:]
for k in p: v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$json" "${1%% //*}"
  fi
}
wasted=$(field .summary.wasted_bytes)
counted=$(field .thresholds.counted_wasted_bytes)
passed=true
[ "$gate_code" -eq 0 ] && [ "$diff_code" -eq 0 ] || passed=false
{
  echo "wasted-bytes=$wasted"
  echo "counted-wasted-bytes=${counted:-$wasted}"
  echo "passed=$passed"
  echo "sarif-file=$sarif"
  echo "json-file=${LW_JSON_FILE:-}"
} >> "$outputs"

if [ "$passed" = false ] && is_true "${LW_FAIL_ON_GATE:-true}"; then
  echo "layerwaste: a limit was crossed (see the annotations and the job summary)" >&2
  exit 1
fi
exit 0
