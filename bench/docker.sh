#!/usr/bin/env bash
# shellcheck disable=SC2154  # repo and vm_sh are set by common.bash
# What the hook adds to a Docker task's launch: `docker run` wall time through
# the agent test double (decorator, fetch, post-fetch, `docker run` as Mesos's Docker executor runs
# it, the task `true` to its end), with the hook loaded vs without, alternating on one VM and one
# XFS, medians. Goal: ratio <= 1.01. Also the hook's own time inside the launch, and a control (a
# second double without the hook, same launches): its ratio is what this host's noise alone gives.
set -euo pipefail
# shellcheck source=bench/common.bash
. "$(dirname "$0")/common.bash"
make -C "$repo" --no-print-directory hook
bench_vm bench-docker
ssh_vm() { "$vm_sh" ssh bench-docker "$@"; }
ssh_vm 'mkdir -p /opt/mxq-bench'
scp -q -F "$repo/.vm/bench-docker/ssh_config" "$repo/.build/hook/mesos-agent-double" \
  "$repo/.build/hook/libmesos_xfs_quota_hook.so" "$repo/bench/docker_vm.py" mxq-vm:/opt/mxq-bench/
# shellcheck disable=SC2016  # expanded in the VM
ssh_vm 'set -e; truncate -s 2G /var/tmp/bench.img; dev=$(losetup --find --show /var/tmp/bench.img)
  mkfs.xfs -q -f "$dev"; mkdir -p /mnt/bench; mount -o prjquota "$dev" /mnt/bench
  systemctl start docker; docker import /usr/local/share/mxq/busybox-rootfs.tar mxq-busybox:1 >/dev/null'
result=$(ssh_vm "python3 /opt/mxq-bench/docker_vm.py /opt/mxq-bench /mnt/bench mxq-busybox:1 ${BENCH_DOCKER_RUNS:-30}")
echo "$result"
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$result" "$1"; }
report "docker run via the double, hook vs none ($(field runs) runs)" "$(field median_with_hook_s)" \
  "$(field median_without_s)" "<= 1.01x"
report "the same, control: none vs none" "$(field median_control_s)" "$(field median_without_s)" "the noise: ~1x"
echo "per round (paired), median ratio: hook/none $(field paired_ratio) (95% CI $(field paired_ratio_ci95)), \
control none/none $(field control_paired_ratio) (95% CI $(field control_paired_ratio_ci95)); \
one launch's spread (none, 3rd/1st quartile): $(field spread)x"
echo "the hook inside that launch (median): $(field median_hooks_us) us = $(python3 -c \
  "print(f'{100 * $(field hook_share):.3f}')") % of it"
