# shellcheck shell=bash
# Shared by the benchmarks: a throw-away VM per benchmark, timing, ratios.
# Benchmarks print ratios against a reference measured in the same run on the same VM;
# absolute times under TCG mean little.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
vm_sh=$repo/tests/vm/vm.sh
export ANSIBLE_CONFIG=$repo/ansible.cfg

# Boot VM $1 for this benchmark and stop it when the benchmark exits. Call it directly, not in
# $(...): the trap belongs to the benchmark's shell. The inventory: "$vm_sh" inventory NAME.
bench_vm() {
  "$vm_sh" up "$1" >/dev/null
  # shellcheck disable=SC2064  # expand now: the name is fixed
  trap "'$vm_sh' down '$1'" EXIT
}

# community.general, the reference for the module benchmarks, taken from the `ansible` package on
# PyPI (Galaxy is not reachable here) into .build/bench/cg; prints its collections path.
bench_community_general() {
  local dir=$repo/.build/bench/cg
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    "$repo/.venv/bin/pip" download -q --no-deps ansible==12.3.0 -d "$dir/wheel" >&2
    python3 -m zipfile -e "$dir"/wheel/ansible-*.whl "$dir/site" >&2
    rm -rf "$dir/wheel"
    touch "$dir/.complete"
  fi
  echo "$dir/site"
}

now() { date +%s.%N; }

# seconds since $1, three decimals
since() { python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.3f}')" "$1"; }

# "name: ours s vs reference s -> ratio x (goal ...)"
report() {
  python3 - "$@" <<'PY'
import sys
name, ours, ref, goal = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
print(f"{name:<52} {ours:9.3f} s vs {ref:9.3f} s  ratio {ours / ref:6.3f}x  (goal {goal})")
PY
}
