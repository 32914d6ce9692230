#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs each libFuzzer target for a bounded time and prints its executions and crashes.
#   hook/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]      (make fuzz; make sanitize runs a short slice)
# Each target starts from its corpus in hook/fuzz/corpus/TARGET (read only) plus what earlier
# runs found (BUILD_DIR/corpus/TARGET); a crashing input is saved in BUILD_DIR/artifacts/TARGET/.
# Exit status 1 if any target crashed.
set -euo pipefail

build=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(config size labels sandbox_path log_text)
fi

echo "fuzz: ${seconds} s per target"
summary=()
failed=0
for target in "${targets[@]}"; do
    work=$build/corpus/$target
    artifacts=$build/artifacts/$target
    log=$build/fuzz_$target.log
    mkdir -p "$work" "$artifacts"
    if [ "$target" = size ]; then
        # the shared size vectors seed it too (kept in one place: tests/vectors/sizes.json)
        python3 -c 'import json, sys
for i, v in enumerate(json.load(open(sys.argv[1]))["vectors"]):
    open("%s/vector-%02d" % (sys.argv[2], i), "w", encoding="utf-8").write(v["text"])' \
            "$here/../../tests/vectors/sizes.json" "$work"
    fi
    before=$(find "$artifacts" -type f | wc -l)
    rc=0
    "$build/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$work" "$here/corpus/$target" >"$log" 2>&1 || rc=$?
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    crashes=$(( $(find "$artifacts" -type f | wc -l) - before ))
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        crashes=1 # a failure that left no artifact (it stopped the run all the same)
    fi
    line=$(printf '%-13s %10s executions  %d crashes  corpus %d' "$target" "${executions:-?}" "$crashes" \
        "$(find "$work" "$here/corpus/$target" -type f | wc -l)")
    summary+=("$line")
    if [ "$crashes" -ne 0 ]; then
        failed=1
        echo "fuzz_$target crashed; the log ($log) says:" >&2
        grep -E -A3 'MXQ_FUZZ invariant|runtime error|ERROR: (AddressSanitizer|libFuzzer)|Test unit written' "$log" >&2 || tail -n 20 "$log" >&2
    fi
done
printf '%s\n' "${summary[@]}"
exit "$failed"
