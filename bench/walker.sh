#!/usr/bin/env bash
# shellcheck disable=SC2154  # repo and vm_sh are set by common.bash
# Assigning a 100,000-file tree to a project: the collection's walker (what xfs_project runs)
# vs `xfs_quota -x -c 'project -s'`, cold and warm cache, plus who crosses a bind mount.
# Goal: within 1.0x of xfs_quota warm (peak RSS printed), one process, with the safety rules (no symlinks,
# no FIFOs, no mounts). BENCH_FILES and BENCH_ROUNDS make it smaller.
set -euo pipefail
# shellcheck source=bench/common.bash
. "$(dirname "$0")/common.bash"
bench_vm bench-walker
ssh_cfg=$repo/.vm/bench-walker/ssh_config
# the module_utils the modules ship, as a package tree the VM's python can import
tar -C "$repo/.build/collections" -chf - ansible_collections/mesos/xfs_quota/plugins/module_utils \
  | "$vm_sh" ssh bench-walker 'mkdir -p /opt/bench && tar -C /opt/bench -xf -'
scp -q -F "$ssh_cfg" "$repo/bench/walker_vm.py" mxq-vm:/opt/bench/
# shellcheck disable=SC2016  # expanded in the VM
"$vm_sh" ssh bench-walker 'set -e; truncate -s 4G /var/tmp/bench.img; dev=$(losetup --find --show /var/tmp/bench.img)
  mkfs.xfs -q -f "$dev"; mkdir -p /mnt/bench; mount -o prjquota "$dev" /mnt/bench'
"$vm_sh" ssh bench-walker "BENCH_ROUNDS=${BENCH_ROUNDS:-5} python3 /opt/bench/walker_vm.py /opt/bench /mnt/bench ${BENCH_FILES:-100000}"
