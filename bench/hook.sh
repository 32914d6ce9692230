#!/usr/bin/env bash
# shellcheck disable=SC2154  # repo and vm_sh are set by common.bash
# The hook's set-up time for one sandbox through the quota core vs the bare syscalls (the floor,
# written in the benchmark) and vs fork+exec of the xfs_quota CLI; the release path; recovery
# over 10,000 live sandboxes. Goal: the core within 1.5x of the floor. Then the
# post-fetch hook on a sandbox of 100,000 fetched files vs an empty one (goal: independent
# of the size), and empty launches while the hook's worker walks it (goal: each within 10 ms).
set -euo pipefail
# shellcheck source=bench/common.bash
. "$(dirname "$0")/common.bash"
make -C "$repo" --no-print-directory hook
bench_vm bench-hook
ssh_vm() { "$vm_sh" ssh bench-hook "$@"; }
scp -q -F "$repo/.vm/bench-hook/ssh_config" "$repo/.build/hook/hook_bench" mxq-vm:/usr/local/bin/hook_bench
# shellcheck disable=SC2016  # expanded in the VM
ssh_vm 'set -e; truncate -s 2G /var/tmp/bench.img; dev=$(losetup --find --show /var/tmp/bench.img)
  mkfs.xfs -q -f "$dev"; mkdir -p /mnt/bench; mount -o prjquota "$dev" /mnt/bench'
ssh_vm "hook_bench /mnt/bench ${BENCH_SANDBOXES:-1000} ${BENCH_RECOVERY:-10000} ${BENCH_FETCHED:-100000} ${BENCH_FETCHED_ROUNDS:-3}"
