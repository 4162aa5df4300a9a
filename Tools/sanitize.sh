#!/usr/bin/env bash
# Runs the wstream CLI built with a sanitizer over the real test models, and fails on the first report.
#
#   Tools/sanitize.sh address|thread WSTREAM_BINARY
#
# `make sanitize` builds the binaries (.build-asan, .build-tsan) and calls this for each. Covered: pack of
# stories260K and tiny-lfm2 from Hugging Face and from GGUF (raw and zstd frames, 4 and 32 bits), inspect and
# verify, run all resident and under a budget that streams (mapped and direct I/O, greedy and sampled), eval
# against a float32 reference (resident and under the smallest budget), and template from a model and from a Jinja
# file with tools.
# Each command must exit as expected and print no sanitizer report.
set -uo pipefail
kind=${1:?usage: $0 address|thread WSTREAM_BINARY}
wstream=${2:?usage: $0 address|thread WSTREAM_BINARY}
cd "$(dirname "$0")/.."
models=${WSTREAM_SHARED:-../shared}/models
templates=${WSTREAM_SHARED:-../shared}/chat-templates
[ -d "$models/stories260K" ] || { echo "sanitize: $models/stories260K is missing (the runs read ../shared/models)"; exit 1; }
work=$(mktemp -d /tmp/wstream-sanitize-XXXXXX)
trap 'rm -rf "$work"' EXIT

# Stop at the first report; leaks are reported when each process exits. Swift's crash reporter would run ahead
# of the sanitizer's own report, so traps are left to the sanitizer.
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1
# Tools/tsan-suppressions.txt says which reports are ThreadSanitizer's blind spot (a contended Swift Mutex).
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/Tools/tsan-suppressions.txt"
export SWIFT_BACKTRACE=enable=no

runs=0
reports='ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|ERROR: ThreadSanitizer|runtime error:'
# step EXPECTED_STATUS LABEL -- COMMAND...: runs COMMAND, checks its exit status and that no sanitizer spoke.
step() {
    local expected=$1 label=$2
    shift 3
    "$@" > "$work/out" 2> "$work/err" < /dev/null
    step_checked "$label" "$expected" $?
}

# step_checked LABEL EXPECTED STATUS: fails unless the command just run exited with EXPECTED and printed no report.
step_checked() {
    local label=$1 expected=$2 status=$3
    runs=$((runs + 1))
    if grep -qE "$reports" "$work/err"; then
        echo "FAIL [$kind] $label: the sanitizer reported (exit $status):"
        cat "$work/err"
        exit 1
    fi
    if [ "$status" != "$expected" ]; then
        echo "FAIL [$kind] $label: exit $status, expected $expected"
        tail -n 20 "$work/err"
        exit 1
    fi
    echo "ok   [$kind] $label"
}

# The smallest budget a model runs in, from the refusal of a budget far below it ("below the minimum working set
# of 114.8 MiB"), plus 0.1 MiB for the rounding of the message.
minimum_budget() {
    "$@" --budget 1M 2>&1 >/dev/null | grep -oE 'minimum working set of [0-9.]+ MiB' | grep -oE '[0-9.]+' \
        | awk '{ printf "%.1fM", $1 + 0.1 }'
}

# streamed LABEL MUST_STREAM COMMAND...: runs COMMAND (run or eval) under the smallest budget it accepts. A
# sanitizer's runtime makes the process's own size vary by megabytes from one start to the next, so a budget
# refused as a little short is tried again with the minimum that refusal names. With MUST_STREAM=yes, --stats must
# show streamed blocks: tiny-lfm2's units are large enough for that; all of stories260K's take 224 KiB, less than
# that variation, so under a sanitizer its smallest budget may still hold everything.
streamed() {
    local label=$1 must_stream=$2
    shift 2
    local budget
    budget=$(minimum_budget "$@")
    [ -n "$budget" ] || { echo "FAIL [$kind] $label: no minimum working set in the refusal of --budget 1M"; exit 1; }
    for attempt in 1 2 3 4; do
        if step_allowing_refusal "$label under --budget $budget" "$@" --budget "$budget"; then break; fi
        budget=$(grep -oE 'minimum working set of [0-9.]+ MiB' "$work/err" | grep -oE '[0-9.]+' | awk '{ printf "%.1fM", $1 + 0.1 }')
        [ "$attempt" = 4 ] && { echo "FAIL [$kind] $label: refused four times"; tail -n 3 "$work/err"; exit 1; }
    done
    if [ "$must_stream" = yes ] && ! grep -qE 'regions resident, [1-9][0-9]* streamed' "$work/err"; then
        echo "FAIL [$kind] $label: nothing streamed under --budget $budget"
        grep -E '^(pool|plan|streaming)' "$work/err"
        exit 1
    fi
}

# Like `step 0`, but a refused budget (exit 2) returns 1 for another try instead of failing.
step_allowing_refusal() {
    local label=$1
    shift
    "$@" > "$work/out" 2> "$work/err" < /dev/null
    local status=$?
    if [ "$status" = 2 ] && grep -q 'below the minimum working set' "$work/err" && ! grep -qE "$reports" "$work/err"; then return 1; fi
    step_checked "$label" 0 "$status"
}

printf 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.\nOne day, she saw a big red ball.\n' > "$work/story.txt"
printf '[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Weather in Paris?"}]\n' > "$work/messages.json"
printf '[{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]\n' > "$work/tools.json"

step 0 "pack stories260K (Hugging Face)" -- "$wstream" pack "$models/stories260K/hf" -o "$work/stories-hf.wst"
step 0 "pack stories260K (GGUF, zstd frames)" -- "$wstream" pack "$models/stories260K/stories260K.gguf" -o "$work/stories-gguf.wst" --compress
step 0 "pack stories260K at 32 bits (eval reference)" -- "$wstream" pack "$models/stories260K/hf" -o "$work/stories-32.wst" --bits 32
step 0 "pack tiny-lfm2 (Hugging Face)" -- "$wstream" pack "$models/tiny-lfm2/hf" -o "$work/lfm2-hf.wst"
step 0 "pack tiny-lfm2 (GGUF)" -- "$wstream" pack "$models/tiny-lfm2/tiny-lfm2.gguf" -o "$work/lfm2-gguf.wst"
step 0 "inspect tiny-lfm2" -- "$wstream" inspect "$work/lfm2-gguf.wst" --tensors
step 0 "verify stories260K (zstd frames)" -- "$wstream" verify "$work/stories-gguf.wst"

for model in stories-hf stories-gguf lfm2-hf lfm2-gguf; do
    step 0 "run $model, resident, greedy" -- "$wstream" run "$work/$model.wst" -p "Once upon a time" -n 24 --temperature 0 --stats
    must_stream=no
    case $model in lfm2-*) must_stream=yes;; esac
    streamed "run $model, smallest budget, mapped, sampled" $must_stream "$wstream" run "$work/$model.wst" --io mapped -p "Once upon a time" -n 24 --seed 3 --stats
    streamed "run $model, smallest budget, direct, greedy" $must_stream "$wstream" run "$work/$model.wst" --io direct -p "Once upon a time" -n 24 --temperature 0 --stats
done
step 2 "run with a budget below the minimum is refused" -- "$wstream" run "$work/lfm2-hf.wst" --budget 1M -p "x" -n 1

step 0 "eval stories260K against float32, resident" -- "$wstream" eval "$work/stories-hf.wst" --text "$work/story.txt" --reference "$work/stories-32.wst"
streamed "eval stories260K, smallest budget" no "$wstream" eval "$work/stories-gguf.wst" --text "$work/story.txt"
step 0 "eval tiny-lfm2, resident" -- "$wstream" eval "$work/lfm2-gguf.wst" --text "$work/story.txt" --limit 64
streamed "eval tiny-lfm2, streamed" no "$wstream" eval "$work/lfm2-hf.wst" --text "$work/story.txt" --limit 64

step 0 "template of a model" -- "$wstream" template "$work/lfm2-hf.wst" --messages "$work/messages.json"
step 0 "template file with tools" -- "$wstream" template "$templates/Qwen-Qwen3-0.6B.jinja" --messages "$work/messages.json" --tools "$work/tools.json" --var enable_thinking=false
step 1 "template that refuses the conversation" -- "$wstream" template "$templates/google-gemma-2-2b-it.jinja" --messages "$work/messages.json"

echo "sanitize [$kind]: $runs runs, no reports"
