#!/usr/bin/env bash
# Runs `make test`'s lanes at once: lanes.sh LOGDIR NAME 'COMMAND' [NAME 'COMMAND' ...].
# Each line is printed with its lane's name and kept in LOGDIR/NAME.log. When a lane fails, its
# failure lines (Ansible's [ERROR], pytest's E and FAILED, Molecule's errors) are printed again at the very end:
# CI shows only the end of a run, where the lane that failed last would otherwise hide the first.
set -uo pipefail

logdir=$1
shift
mkdir -p "$logdir"

names=()
pids=()
while [ $# -ge 2 ]; do
    name=$1 command=$2
    shift 2
    width=$(( ${#name} < 9 ? 9 : ${#name} ))
    ( bash -eu -o pipefail -c "$command" 2>&1 | tee "$logdir/$name.log" \
        | sed -u "s/^/$(printf '%-*s' "$((width + 2))" "[$name]")/" ) &
    names+=("$name")
    pids+=("$!")
done

failed=()
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${names[$i]}")
done

if [ ${#failed[@]} -eq 0 ]; then
    echo "make test: all passed"
    exit 0
fi
for name in "${failed[@]}"; do
    echo "== why lane $name failed (whole log: $logdir/$name.log)"
    # Ansible's one-line [ERROR] (rescued ones too: keep a few), pytest's E and FAILED lines, Molecule's
    grep -E '\[ERROR\]: |^E   |^FAILED |^ERROR|CRITICAL|Traceback|failed=[1-9]' "$logdir/$name.log" \
        | grep -v 'molecule.yml. glob failed' | tail -n 12 | cut -c 1-400
    echo "-- its last lines:"
    tail -n 5 "$logdir/$name.log" | cut -c 1-400
done
echo "make test: failed in: ${failed[*]} (lines prefixed with the lane's name)"
exit 1
