#!/usr/bin/env bash
# `wstream run` inside a memory cgroup of its budget + 10 % (`make cgroup-run`): for each budget, a group limited to
# budget × 1.1 (cgroup v2's memory controller, else v1; swap included in the limit where it is accounted) and one run
# of MODEL in it. The group charges the page cache the run reads through too, so this checks that the budget is the
# process's whole footprint. Prints, per budget: exit status, VmHWM against the budget, the group's peak charge, OOM
# kills, the streaming mode and decode speed. Exits 1 when a run does not complete, 2 when no group can be made.
#
#   Tools/cgroup-run.sh MODEL BUDGET [BUDGET …]        e.g. Tools/cgroup-run.sh SampleWeights/lfm2-1.2b-q4.wst 700M 300M
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 MODEL BUDGET [BUDGET …]" >&2; exit 2; }
MODEL=$1
shift
W=${WSTREAM:-.build/release/wstream}
[ -x "$W" ] || { echo "error: $W is missing: build it with \`swift build -c release --product wstream\`" >&2; exit 2; }
TOKENS=${TOKENS:-64}
PROMPT="Once upon a time, in a small town by the sea, there lived an old clockmaker who"

if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
  root=/sys/fs/cgroup limit_file=memory.max swap_file=memory.swap.max peak_file=memory.peak oom_file=memory.events
elif [ -w /sys/fs/cgroup/memory ]; then
  root=/sys/fs/cgroup/memory limit_file=memory.limit_in_bytes swap_file=memory.memsw.limit_in_bytes
  peak_file=memory.max_usage_in_bytes oom_file=memory.oom_control
else
  echo "skipped: no writable memory cgroup here (neither cgroup v2's memory controller nor a writable /sys/fs/cgroup/memory)" >&2
  exit 2
fi

# Bytes of a budget such as 700M or 1.5G (powers of 1024, as --budget reads it).
bytes() {
  awk -v text="$1" 'BEGIN {
    unit = toupper(substr(text, length(text))); number = substr(text, 1, length(text) - 1)
    scale = unit == "K" ? 1024 : unit == "M" ? 1048576 : unit == "G" ? 1073741824 : 1
    if (scale == 1) number = text
    printf "%d", number * scale }'
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

log=$(mktemp /tmp/wstream-cgroup-run-XXXXXX)
trap 'rm -f "$log"' EXIT
status=0
printf "%-8s %-10s %-12s %-22s %-22s %-5s %-8s %s\n" budget limit exit "peak RSS (VmHWM)" "group peak (with cache)" "OOM" io "decode"
for budget in "$@"; do
  budget_bytes=$(bytes "$budget")
  limit=$((budget_bytes / 10 * 11))
  group="$root/wstream-cgroup-run-$$-$budget"
  mkdir "$group" || { echo "cannot create $group" >&2; exit 2; }
  echo "$limit" > "$group/$limit_file" || { rmdir "$group"; echo "cannot limit $group" >&2; exit 2; }
  echo "$limit" > "$group/$swap_file" 2>/dev/null
  sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$group" "$W" run "$MODEL" --budget "$budget" \
    --prompt "$PROMPT" -n "$TOKENS" --temperature 0 --stats --stats-json >/dev/null 2>"$log"
  code=$?
  stderr=$(cat "$log")
  peak_group=$(tr -dc '0-9' < "$group/$peak_file")
  kills=$(awk '$1 == "oom_kill" { print $2 }' "$group/$oom_file"); kills=${kills:-0}
  rmdir "$group"
  peak=$(echo "$stderr" | grep -o '"peak_resident_bytes":[0-9]*' | grep -o '[0-9]*$')
  decode=$(echo "$stderr" | grep -o '"decode_tokens_per_second":[0-9.]*' | grep -o '[0-9.]*$')
  io=$(echo "$stderr" | grep -o 'per generated token ([a-z]*)' | grep -o '([a-z]*)' | tr -d '()')
  printf "%-8s %-10s %-12s %-22s %-22s %-5s %-8s %s\n" "$budget" "$(mib "$limit")" "$code" \
    "${peak:+$(mib "$peak") ($((peak * 100 / budget_bytes)) %)}" "$(mib "${peak_group:-0}")" "$kills" "${io:--}" "${decode:+$(awk -v d="$decode" 'BEGIN { printf "%.2f tok/s", d }')}"
  if [ "$code" != 0 ] || [ -z "$peak" ] || [ "$peak" -gt "$budget_bytes" ] || [ "$kills" != 0 ]; then
    status=1
    echo "$stderr" | tail -5 >&2
  fi
done
exit $status
