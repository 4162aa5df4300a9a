#!/usr/bin/env bash
# Faults while packing (`make pack-faults`): RUNS packs each (default 20) that reach a file-size limit (RLIMIT_FSIZE,
# `ulimit -f`), fill a small tmpfs (when one can be mounted here), or get SIGKILL or SIGTERM at a random moment. After
# each, the target must hold a complete file that `wstream verify` passes, or nothing; a pack that could clean up
# (every fault but SIGKILL) must leave no temporary file; and the next pack into the folder must remove what a
# killed one left. Prints one row per fault and exits 1 on any violation.
#
#   Tools/pack-faults.sh [RUNS] [SEED]
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
RANDOM=${2:-1}
W=${WSTREAM:-.build/release/wstream}
[ -x "$W" ] || { echo "error: $W is missing: build it with \`swift build -c release --product wstream\`" >&2; exit 2; }

work=$(mktemp -d /tmp/wstream-pack-faults-XXXXXX)
mounted=""
cleanup() {
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The source: the synthetic llama-small shape (~190 MB of bf16, ~66 MB packed), whose pack takes long enough for a
# signal to land in every phase: import, quantisation, writing, the final rename.
"$W" synth --shape llama-small --out "$work/source" >/dev/null || exit 2
start=$(date +%s.%N)
"$W" pack "$work/source" -o "$work/reference.wst" >/dev/null || exit 2
seconds=$(awk "BEGIN { print $(date +%s.%N) - $start }")
size=$(stat -c %s "$work/reference.wst")
rm -f "$work/reference.wst"
echo "source: llama-small, packed $size bytes in ${seconds}s; $RUNS runs per fault"

failures=0
fail() {
  echo "FAIL ($1 run $2): $3" >&2
  failures=$((failures + 1))
}

# A random fraction of $1 (a decimal number), from bash's seeded $RANDOM.
random_fraction_of() { awk "BEGIN { printf \"%.3f\", $1 * $RANDOM / 32767 }"; }

# Checks one run's folder: target complete or absent, temporaries as the fault allows.
# Arguments: fault, run, folder, target, whether a temporary may be left (yes/no), pid of the run.
check_run() {
  local fault=$1 run=$2 folder=$3 target=$4 may_leave=$5 pid=$6
  if [ -e "$target" ]; then
    if "$W" verify "$target" >/dev/null 2>&1; then complete=$((complete + 1)); else fail "$fault" "$run" "$target exists but does not verify"; fi
  else
    nothing=$((nothing + 1))
  fi
  for leftover in "$folder"/.*.tmp-*; do
    [ -e "$leftover" ] || continue
    if [ "${leftover##*.tmp-}" = "$pid" ]; then
      if [ "$may_leave" = yes ]; then left=$((left + 1)); else fail "$fault" "$run" "left $leftover"; fi
    else
      fail "$fault" "$run" "$leftover of an earlier, dead pack survived this pack"
    fi
  done
  for other in "$folder"/*; do
    [ -e "$other" ] || continue
    [ "$other" = "$target" ] || fail "$fault" "$run" "unexpected file $other"
  done
}

# Counts in $cleaned the temporaries listed in $2 (one name a line) that are no longer in folder $1.
removed_by_this_pack() {
  local name
  for name in $2; do
    [ -e "$1/$name" ] || cleaned=$((cleaned + 1))
  done
}

# Runs one fault RUNS times into one folder, so that each pack meets what the previous one left.
# Arguments: fault name, folder.
run_fault() {
  local fault=$1 folder=$2
  complete=0 nothing=0 left=0 cleaned=0 statuses=""
  mkdir -p "$folder"
  for run in $(seq 1 "$RUNS"); do
    local target="$folder/model-$run.wst"
    local before
    before=$(cd "$folder" && ls -A | grep '\.tmp-')
    case $fault in
      file-size-limit)
        # 5 % to 119 % of the file: most packs hit the limit, a few fit.
        local limit=$(( (size / 1024) * (RANDOM % 115 + 5) / 100 ))
        bash -c "ulimit -f $limit && exec \"\$0\" \"\$@\"" "$W" pack "$work/source" -o "$target" >/dev/null 2>"$work/stderr" &
        ;;
      full-tmpfs)
        mount -o remount,size=$(( size / 100 * (RANDOM % 115 + 5) )) "$folder" || fail "$fault" "$run" "cannot resize the tmpfs"
        "$W" pack "$work/source" -o "$target" >/dev/null 2>"$work/stderr" &
        ;;
      SIGKILL|SIGTERM)
        "$W" pack "$work/source" -o "$target" >/dev/null 2>"$work/stderr" &
        ;;
    esac
    local pid=$!
    case $fault in
      SIGKILL|SIGTERM) sleep "$(random_fraction_of "$seconds")"; kill -"${fault#SIG}" "$pid" 2>/dev/null ;;
    esac
    # (Braces around wait keep bash's "Killed" job notice off the table.)
    { wait "$pid"; } 2>/dev/null
    local status=$?
    statuses="$statuses $status"
    case $fault in
      file-size-limit|full-tmpfs)
        [ "$status" = 1 ] || [ "$status" = 0 ] || fail "$fault" "$run" "exit status $status: $(tail -1 "$work/stderr")"
        if [ "$status" = 1 ] && ! grep -q -e "File too large" -e "No space left on device" "$work/stderr"; then
          fail "$fault" "$run" "the error does not say the disk is full: $(tail -1 "$work/stderr")"
        fi
        check_run "$fault" "$run" "$folder" "$target" no "$pid" ;;
      SIGKILL) check_run "$fault" "$run" "$folder" "$target" yes "$pid" ;;
      SIGTERM)
        [ "$status" = 143 ] || [ "$status" = 0 ] || fail "$fault" "$run" "exit status $status"
        check_run "$fault" "$run" "$folder" "$target" no "$pid" ;;
    esac
    removed_by_this_pack "$folder" "$before"
    rm -f "$target"
  done
  # A last pack without a fault: it must succeed and leave only its file (what SIGKILL left is removed by it). A full
  # tmpfs holds nothing by then, as every pack there cleaned up after itself.
  if [ "$fault" = full-tmpfs ]; then
    [ -z "$(ls -A "$folder")" ] || fail "$fault" final "left $(ls -A "$folder")"
  else
    local before
    before=$(cd "$folder" && ls -A | grep '\.tmp-')
    "$W" pack "$work/source" -o "$folder/final.wst" >/dev/null 2>&1 || fail "$fault" final "pack failed"
    removed_by_this_pack "$folder" "$before"
    [ "$(ls -A "$folder")" = final.wst ] || fail "$fault" final "left $(ls -A "$folder" | tr '\n' ' ')"
    "$W" verify "$folder/final.wst" >/dev/null 2>&1 || fail "$fault" final "final.wst does not verify"
  fi
  printf "%-16s %5d %14d %8d %22d %24d   %s\n" "$fault" "$RUNS" "$complete" "$nothing" "$left" "$cleaned" \
    "$(echo $statuses | tr ' ' '\n' | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')"
}

printf "%-16s %5s %14s %8s %22s %24s   %s\n" fault runs "complete file" nothing "temporaries left" "removed by next pack" "exit statuses"
run_fault file-size-limit "$work/limit"
if mkdir -p "$work/tmpfs" && mount -t tmpfs -o size="$size" tmpfs "$work/tmpfs" 2>/dev/null; then
  mounted="$work/tmpfs"
  run_fault full-tmpfs "$work/tmpfs"
else
  echo "full-tmpfs       skipped: cannot mount a tmpfs here (needs root)"
fi
run_fault SIGKILL "$work/kill"
run_fault SIGTERM "$work/term"
if [ "$failures" -gt 0 ]; then
  echo "$failures violations" >&2
  exit 1
fi
echo "no violations"
