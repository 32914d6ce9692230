#!/usr/bin/env bash
# shellcheck disable=SC2154  # repo and vm_sh are set by common.bash
# Limits for 20 and 200 projects: mesos.xfs_quota.xfs_project_quota (one task, list form)
# vs community.general.xfs_quota in a loop (projects pre-defined, as it requires); first and
# idempotent runs; then both again with 10,000 unrelated projects on the file system.
# Goals (issue 3): ours <= 0.1x the reference; ours with 10,000 projects <= 1.1x ours without.
set -euo pipefail
# shellcheck source=bench/common.bash
. "$(dirname "$0")/common.bash"
cg=$(bench_community_general)
bench_vm bench-limits
inv=$("$vm_sh" inventory bench-limits)
export ANSIBLE_COLLECTIONS_PATH=$repo/.build/collections:$cg
counts=${BENCH_COUNTS:-20 200}

play() { ansible-playbook -i "$inv" "$repo/bench/playbooks/limits.yml" "$@" >/dev/null; }
timed() { local t0; t0=$(now); play "$@"; since "$t0"; }

rm -f "$repo/.build/bench/limits.ours"
play -e step=setup -e unrelated=0
for unrelated in 0 10000; do
  [ "$unrelated" = 0 ] || play -e step=setup -e unrelated="$unrelated"
  for n in $counts; do
    for run in first idempotent; do
      # a first run starts from no limits; the idempotent run repeats the same limits
      [ "$run" = idempotent ] || play -e step=clear -e count="$n"
      cg_s=$(timed -e step=cg -e count="$n")
      [ "$run" = idempotent ] || play -e step=clear -e count="$n"
      ours_s=$(timed -e step=ours -e count="$n")
      report "limits, $n projects, $run run, $unrelated unrelated" "$ours_s" "$cg_s" "<= 0.1x"
      echo "$unrelated $n $run $ours_s" >> "$repo/.build/bench/limits.ours"
    done
  done
done
for n in $counts; do
  for run in first idempotent; do
    read -r without with < <(awk -v n="$n" -v r="$run" '$2==n && $3==r {t[$1]=$4} END {print t[0], t[10000]}' \
      "$repo/.build/bench/limits.ours")
    report "ours, $n projects, $run: 10,000 unrelated vs none" "$with" "$without" "<= 1.1x"
  done
done
rm -f "$repo/.build/bench/limits.ours"
