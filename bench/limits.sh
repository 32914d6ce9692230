#!/usr/bin/env bash
# shellcheck disable=SC2154  # repo and vm_sh are set by common.bash
# Limits for 20 and 200 projects: mesos.xfs_quota.xfs_project_quota (one task, list form)
# vs community.general.xfs_quota in a loop (projects pre-defined, as it requires); first and
# idempotent runs; then ours on a file system with 10,000 unrelated projects against ours
# without them. Ours is the median of BENCH_ROUNDS runs each time.
# Goals: ours <= 0.1x the reference; ours with 10,000 projects <= 1.1x ours without. First, the
# curve: the cost per project at 10 to 10,000 projects against one xfs_quota exec (BENCH_CURVE,
# BENCH_CURVE_ONLY=1 stops after it).
set -euo pipefail
# shellcheck source=bench/common.bash
. "$(dirname "$0")/common.bash"
cg=$(bench_community_general)
bench_vm bench-limits
inv=$("$vm_sh" inventory bench-limits)
export ANSIBLE_COLLECTIONS_PATH=$repo/.build/collections:$cg
counts=${BENCH_COUNTS:-20 200}
# the reference takes minutes per count; BENCH_REFERENCE_COUNTS="20" skips it for 200
reference_counts=${BENCH_REFERENCE_COUNTS:-$counts}
# ours takes seconds, mostly ansible-playbook starting: the median of a few runs
rounds=${BENCH_ROUNDS:-5}
# ours in the VM, with and without 10,000 unrelated projects, alternately: the median of more
vm_rounds=${BENCH_VM_ROUNDS:-9}

play() { ansible-playbook -i "$inv" "$repo/bench/playbooks/limits.yml" "$@" >/dev/null; }
timed() { local t0; t0=$(now); play "$@"; since "$t0"; }
# ours_median N first|idempotent: median seconds of $rounds ansible-playbook runs (a first run
# starts from no limits)
ours_median() {
  local times=() i
  for ((i = 0; i < rounds; i++)); do
    [ "$2" = idempotent ] || play -e step=clear -e count="$1"
    times+=("$(timed -e step=ours -e count="$1")")
  done
  python3 -c 'import statistics, sys; print(f"{statistics.median(map(float, sys.argv[1:])):.3f}")' "${times[@]}"
}

play -e step=setup -e unrelated=0

# The cost per project beyond the module's start, at each size, against one xfs_quota exec with a
# `limit` command per project (goal: <= 2x); run in the VM from the kept payloads (limits_vm.py curve).
curve=${BENCH_CURVE:-10 100 1000 10000}
"$vm_sh" ssh bench-limits "mkdir -p /opt/bench"
scp -q -F "$repo/.vm/bench-limits/ssh_config" "$repo/bench/limits_vm.py" mxq-vm:/opt/bench/
for n in 1 $curve; do
  ANSIBLE_PIPELINING=False ANSIBLE_KEEP_REMOTE_FILES=1 play -e step=curve -e count="$n"
  # shellcheck disable=SC2016  # expanded in the VM
  "$vm_sh" ssh bench-limits 'cp "$(ls -t /root/.ansible/tmp/ansible-tmp-*/AnsiballZ_xfs_project_quota.py | head -1)"' \
    "/opt/bench/ours-curve-$n.py"
done
"$vm_sh" ssh bench-limits "python3 /opt/bench/limits_vm.py curve ${BENCH_CURVE_ROUNDS:-3} $curve" </dev/null
[ -z "${BENCH_CURVE_ONLY:-}" ] || exit 0

for n in $counts; do
  for run in first idempotent; do
    # a first run starts from no limits; the idempotent run repeats the same limits
    if [[ " $reference_counts " == *" $n "* ]]; then
      [ "$run" = idempotent ] || play -e step=clear -e count="$n"
      cg_s=$(timed -e step=cg -e count="$n")
    fi
    ours_s=$(ours_median "$n" "$run")
    if [[ " $reference_counts " == *" $n "* ]]; then
      report "limits, $n projects, $run run" "$ours_s" "$cg_s" "<= 0.1x"
    else
      echo "limits, $n projects, $run run: ours $ours_s s (reference skipped: BENCH_REFERENCE_COUNTS)"
    fi
  done
done

# 10,000 unrelated projects: the same module run on a second XFS that also holds 10,000 limited
# projects, with project files that name them too, against the first. The AnsiballZ payloads
# Ansible sends are kept and run alternately in the VM (bench/limits_vm.py), so SSH and
# ansible-playbook's start-up, most of a run and the noisiest part, stay out of this ratio.
play -e step=setup10k
for n in $counts; do
  for target in plain 10k; do
    ANSIBLE_PIPELINING=False ANSIBLE_KEEP_REMOTE_FILES=1 play -e step=ours -e count="$n" -e target="$target"
    # shellcheck disable=SC2016  # expanded in the VM
    "$vm_sh" ssh bench-limits 'cp "$(ls -t /root/.ansible/tmp/ansible-tmp-*/AnsiballZ_xfs_project_quota.py | head -1)"' \
      "/opt/bench/ours-$n-$target.py"
  done
  for run in first idempotent; do
    # $(...) waits for ssh to exit: while it runs, the stderr it shares with the next
    # ansible-playbook is non-blocking, which ansible-playbook refuses
    medians=$("$vm_sh" ssh bench-limits "python3 /opt/bench/limits_vm.py $n $run $vm_rounds" </dev/null)
    read -r with without <<<"$medians"
    report "ours in the VM, $n projects, $run, 10,000 unrelated vs none" "$with" "$without" "<= 1.1x"
  done
done

# The reference with 10,000 unrelated projects: it runs three full reports per item, each
# listing all 10,000, so its cost per project comes from a sample of BENCH_CG_SAMPLE items.
play -e step=setup -e unrelated=10000
sample=${BENCH_CG_SAMPLE:-2}
play -e step=clear -e count="$sample"
cg_s=$(timed -e step=cg -e count="$sample")
python3 -c "import sys; print(f'reference with 10,000 unrelated projects: {float(sys.argv[1]) / int(sys.argv[2]):.1f} s per project ({sys.argv[2]} measured)')" "$cg_s" "$sample"
