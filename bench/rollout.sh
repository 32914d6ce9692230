#!/usr/bin/env bash
# shellcheck disable=SC2154  # repo and vm_sh are set by common.bash
# The rollout's time per agent, and how it grows with the number of agents and the batch size:
# N agent TEST DOUBLES (not Mesos) in one VM, each its own unit, port and work_dir, rolled out by
# playbooks/site.yml (-e rollout_batch=B, forks = B), then a second run (nothing to change) and a
# parameter change (every agent restarted). Prints seconds per agent for each (N, B).
#   bash bench/rollout.sh            # N=50, B in 10 25 50
#   BENCH_AGENTS=20 BENCH_BATCHES="5 20" bash bench/rollout.sh
#   BENCH_STRATEGY=linear bash bench/rollout.sh   # Ansible's own strategy, as operators run it
# By default under Mitogen's strategy (tests/mitogen, as `make integration` and Molecule use it): a
# task in the TCG VM costs ~0.3 s there instead of ~3 s of a fresh Python unpacking its module,
# which would otherwise be most of what is measured. Every run's log is in .build/bench/rollout/.
# Absolute times are TCG's and of one VM holding every agent; what matters is how they grow.
set -euo pipefail
# shellcheck source=bench/common.bash
source "$(dirname "$0")/common.bash"
agents=${BENCH_AGENTS:-50}
batches=${BENCH_BATCHES:-"10 25 50"}
export BENCH_REPO=$repo PATH=$repo/.venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$repo/.build/collections ANSIBLE_ROLES_PATH=$repo/roles:$repo/tests/doubles/roles
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_STDOUT_CALLBACK=ansible.builtin.minimal
strategy=${BENCH_STRATEGY:-mitogen}
case $strategy in
  mitogen) export ANSIBLE_STRATEGY_PLUGINS=$repo/tests/mitogen ANSIBLE_STRATEGY=mitogen_linear_unpinned ANSIBLE_TIMEOUT=60 ;;
  linear) export ANSIBLE_STRATEGY=linear ;;
  *) echo "BENCH_STRATEGY must be mitogen or linear, not '$strategy'" >&2; exit 2 ;;
esac
out=$repo/.build/bench/rollout
mkdir -p "$out"
bench_vm bench-rollout
vm_inventory=$("$vm_sh" inventory bench-rollout)

# every agent-N is the VM, with its own unit, port, work_dir, modules file and hook id range (real
# agents each have a host; here they share /etc/mesos-agent, so each gets its own modules file)
# (inventory-2g.yml: the same with another default_limit, for the parameter change)
for limit in 1g 2g; do
  python3 - "$vm_inventory" "$agents" "$limit" >"$out/inventory-$limit.yml" <<'PY'
import sys, yaml
vm = next(iter(yaml.safe_load(open(sys.argv[1]))["all"]["hosts"].values()))
hosts = {}
for n in range(1, int(sys.argv[2]) + 1):
    hosts[f"agent-{n}"] = dict(vm, agent_service=f"mesos-agent-{n}", agent_port=5100 + n,
                               agent_work_dir=f"/var/lib/mesos/agent-{n}",
                               agent_modules_file=f"/etc/mesos-agent/modules-{n}.json",
                               mesos_xfs_quota_hook_parameters={
                                   "project_ids": f"{20000 + 100 * n}-{20000 + 100 * n + 99}", "default_limit": sys.argv[3]})
print(yaml.safe_dump({"all": {"children": {"agents": {"hosts": hosts}}}}))
PY
done
cp "$out/inventory-1g.yml" "$out/inventory.yml"
ansible-playbook -i "$out/inventory.yml" -f 10 "$repo/bench/playbooks/rollout_agents.yml" >"$out/prepare.log" 2>&1 \
  || { echo "preparing the agents failed: $out/prepare.log" >&2; tail -20 "$out/prepare.log" >&2; exit 1; }

site() {  # site() BATCH LABEL INVENTORY: seconds of one site.yml run
  local batch=$1 label=$2 inventory=$3 started
  started=$(date +%s.%N)
  ansible-playbook -i "$inventory" -f "$batch" "$repo/playbooks/site.yml" -e rollout_hosts=agents \
      -e rollout_batch="$batch" -e _hook_test_api_stub="$repo/tests/doubles/mesos_stub" -e hook_mesos_version=1.11.0 -e xfs_mountpoint=/var/lib/mesos \
      -e hook_build_host=localhost -e hook_build_dir="$repo/.build/hook-build/1.11.0" \
      -e hook_artifacts_dir="$repo/.build/hook-artifacts" >"$out/$label.log" 2>&1 \
    || { echo "rollout $label failed: $out/$label.log" >&2; tail -20 "$out/$label.log" >&2; exit 1; }
  echo "$(date +%s.%N) - $started" | bc
}

echo "strategy: $strategy; host load before: $(cat /proc/loadavg)"
printf '%-6s %-6s %-22s %10s %12s\n' agents batch run seconds s/agent
for batch in $batches; do
  # each batch size from agents without the hook: the off switch first
  ansible-playbook -i "$out/inventory-1g.yml" -f "$batch" "$repo/playbooks/remove_hook.yml" -e rollout_hosts=agents \
      -e rollout_batch="$batch" >"$out/remove-$batch.log" 2>&1 \
    || { echo "remove_hook failed: $out/remove-$batch.log" >&2; tail -20 "$out/remove-$batch.log" >&2; exit 1; }
  for run in rollout unchanged parameter_change; do
    inventory=$out/inventory-1g.yml
    [ "$run" = parameter_change ] && inventory=$out/inventory-2g.yml
    seconds=$(site "$batch" "$run-$batch" "$inventory")
    printf '%-6s %-6s %-22s %10.1f %12.2f\n' "$agents" "$batch" "$run" "$seconds" "$(echo "$seconds / $agents" | bc -l)"
  done
done
