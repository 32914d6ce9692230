#!/usr/bin/env bash
# The built collection as a user gets it: what the tarball holds, and the installed collection's
# playbooks. `make galaxy` runs it after galaxy-importer.
#   tests/tarball_test.sh TARBALL ANSIBLE_BIN_DIR
set -euo pipefail
tarball=$(realpath "$1") bin=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "tarball_test: $*" >&2; exit 1; }

tar tzf "$tarball" > "$tmp/files"
for f in README.md CHANGELOG.rst changelogs/changelog.yaml LICENSES/GPL-3.0-or-later.txt LICENSES/Apache-2.0.txt \
         roles/xfs/README.md roles/hook/README.md roles/agent/README.md roles/drain/README.md hook/CMakeLists.txt; do
    grep -qx "$f" "$tmp/files" || fail "$f is missing"
done
if grep -E '^(bench|molecule|tests|docs|hook/tests|hook/fuzz|hook/build|changelogs/fragments|\.ci|\.config)/|^(Makefile|ansible\.cfg|playbooks/demo\.yml)$|mesos_stub' "$tmp/files"; then
    fail "development files in the tarball (above)"
fi
# No choice offered to operators that cannot work from the tarball (the stub is not in it).
tar xzOf "$tarball" roles/hook/meta/argument_specs.yml roles/hook/defaults/main.yml roles/hook/README.md > "$tmp/hook_role"
if grep -n 'test_stub\|mesos_stub' "$tmp/hook_role"; then fail "the hook role offers the test-only API stub (above)"; fi

# The version and the documentation link Galaxy shows.
tar xzOf "$tarball" MANIFEST.json > "$tmp/MANIFEST.json"
repo=$(cd "$(dirname "$0")/.." && pwd)
"$bin/python" - "$tmp/MANIFEST.json" "$repo/galaxy.yml" <<'PY' || fail "MANIFEST.json (above)"
import json, sys, yaml
info = json.load(open(sys.argv[1]))["collection_info"]
galaxy = yaml.safe_load(open(sys.argv[2]))
problems = []
if info["version"] != galaxy["version"]:
    problems.append(f"version {info['version']} is not galaxy.yml's {galaxy['version']}")
if not info["documentation"].endswith("/docs/README.md"):
    problems.append(f"documentation {info['documentation']} is not the users' documentation (docs/README.md)")
for problem in problems:
    print("MANIFEST.json:", problem)
sys.exit(1 if problems else 0)
PY

# The release notes announce every plugin, role and playbook the tarball holds: the tarball's own
# changelog once the version is released, else what `antsibull-changelog release` would write now
# (run on a copy of the repository: the lead releases once every fragment is in).
version=$("$bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' "$tmp/MANIFEST.json")
tar xzOf "$tarball" changelogs/changelog.yaml > "$tmp/changelog.yaml"
if ! "$bin/python" -c 'import sys,yaml; sys.exit(sys.argv[2] not in yaml.safe_load(open(sys.argv[1]))["releases"])' "$tmp/changelog.yaml" "$version"; then
    mkdir "$tmp/preview"
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ "$tmp/preview/")
    (cd "$tmp/preview" && PATH="$bin:$PATH" antsibull-changelog release --version "$version" >"$tmp/preview.log" 2>&1) \
        || { cat "$tmp/preview.log"; fail "antsibull-changelog release --version $version fails"; }
    cp "$tmp/preview/changelogs/changelog.yaml" "$tmp/changelog.yaml"
    echo "tarball_test: $version is not released yet; checked the notes antsibull-changelog would write now"
fi
mkdir "$tmp/content" && tar xzf "$tarball" -C "$tmp/content"
"$bin/python" - "$tmp/changelog.yaml" "$version" "$tmp/files" "$tmp/content" <<'PY' || fail "the release notes do not announce the above"
import re, sys, yaml
releases = yaml.safe_load(open(sys.argv[1]))["releases"]
announced = set()
for data in releases.values():
    announced |= {("module", m["name"]) for m in data.get("modules", [])}
    for group in ("plugins", "objects"):
        for kind, entries in (data.get(group) or {}).items():
            announced |= {(kind, e["name"]) for e in entries}
if sys.argv[2] not in releases:
    sys.exit(f"no release {sys.argv[2]} in the notes")
shipped = set()
for line in open(sys.argv[3]).read().split():
    if (m := re.fullmatch(r"plugins/modules/([a-z0-9_]+)\.py", line)):
        shipped.add(("module", m[1]))
    elif (m := re.fullmatch(r"roles/([a-z0-9_]+)/meta/argument_specs\.yml", line)):
        shipped.add(("role", m[1]))
    elif (m := re.fullmatch(r"playbooks/([a-z0-9_]+)\.ya?ml", line)):
        shipped.add(("playbook", m[1]))
    elif re.fullmatch(r"plugins/filter/[a-z0-9][a-z0-9_]*\.py", line):  # _name: private, never announced
        # a filter file documents one filter, named in its DOCUMENTATION
        name = re.search(r"^name: *([a-z0-9_]+)$", open(f"{sys.argv[4]}/{line}").read(), re.M)
        shipped.add(("filter", name[1]))
missing = sorted(s for s in shipped if s not in announced)
for kind, name in missing:
    print(f"not announced: {kind} {name}")
sys.exit(1 if missing else 0)
PY
# (through a file: grep -q ends at its match, and with pipefail tar's next write would fail on SIGPIPE)
tar xzOf "$tarball" README.md > "$tmp/README.md"
grep -q '^## Installation' "$tmp/README.md" || fail "README.md is not the users' one (docs/README.md)"

# Installed alone, as `ansible-galaxy collection install` does it, with no ansible.cfg of ours.
export ANSIBLE_COLLECTIONS_PATH=$tmp/coll
unset ANSIBLE_CONFIG
cd "$tmp"
"$bin/ansible-galaxy" collection install --force -p "$tmp/coll" "$tarball" >/dev/null
"$bin/ansible-playbook" --syntax-check -i localhost, \
    mesos.xfs_quota.site mesos.xfs_quota.adjust_quota mesos.xfs_quota.report mesos.xfs_quota.remove_hook mesos.xfs_quota.uninstall \
    mesos.xfs_quota.upgrade_mesos >/dev/null

# An inventory without the group mesos_agents, or a --limit that leaves no agent: site fails and says why.
printf '[web]\nweb1 ansible_connection=local\n[mesos_agents]\nagent1 ansible_connection=local\n' > "$tmp/inventory"
for args in "-i web1, " "-i $tmp/inventory --limit web1"; do
    # shellcheck disable=SC2086  # $args holds several words on purpose
    if "$bin/ansible-playbook" $args mesos.xfs_quota.site > "$tmp/site.log" 2>&1; then
        cat "$tmp/site.log"; fail "site with no agent ($args) exited 0"
    fi
    grep -q 'no agent to roll out to' "$tmp/site.log" || { cat "$tmp/site.log"; fail "site with no agent ($args) did not say why"; }
done
# A role variable from the inventory reaches the role (the playbook passes none of its own): the
# agent's unit, read first with every tag (site.yml reads the agent before it changes anything);
# this host has no such unit and the preflight says which one it looked for.
printf '[mesos_agents]\nagent1 ansible_connection=local ansible_python_interpreter=%s\n[mesos_agents:vars]\nagent_service=mesos-from-inventory\nxfs_mountpoint=/srv/from-inventory\n' \
    "$bin/python" > "$tmp/inventory"
"$bin/ansible-playbook" -i "$tmp/inventory" mesos.xfs_quota.site --tags xfs --check > "$tmp/site.log" 2>&1 && fail "site on a host with no agent exited 0"
grep -q 'mesos-from-inventory' "$tmp/site.log" || { cat "$tmp/site.log"; fail "agent_service from the inventory did not reach the agent's preflight"; }
grep -q 'is neither in /etc/fstab nor mounted' "$tmp/site.log" && { cat "$tmp/site.log"; fail "site touched the disk's role before the agent was read"; }
# The xfs role alone: the mount point from the inventory, in check mode on this host, where the path
# is not mounted and the module says so, naming the role's variable xfs_device, not the module's src.
printf -- '- name: The xfs role alone\n  hosts: all\n  gather_facts: false\n  roles: [mesos.xfs_quota.xfs]\n' > "$tmp/xfs_only.yml"
"$bin/ansible-playbook" -i "$tmp/inventory" "$tmp/xfs_only.yml" --check > "$tmp/xfs.log" 2>&1 || true
grep -q 'xfs_device: /srv/from-inventory is neither in /etc/fstab nor mounted; give xfs_device' "$tmp/xfs.log" \
    || { cat "$tmp/xfs.log"; fail "xfs_mountpoint from the inventory did not reach the xfs role, or its error does not name xfs_device"; }
# The hook role in check mode on a first rollout (nothing built yet) predicts the install and changes
# nothing (no checksum of a build that does not exist yet is read).
cat > "$tmp/hook_check.yml" <<'PLAY'
- name: The hook role in check mode with nothing built
  hosts: all
  gather_facts: false
  roles:
    - role: mesos.xfs_quota.hook
      # no agent runs here to ask its version (the role reads /version when it can)
      vars: {hook_mesos_version: "1.11.0", hook_build_host: localhost, hook_artifacts_dir: "{{ out }}/artifacts",
             hook_build_dir: "{{ out }}/build", hook_install_dir: "{{ out }}/modules"}
PLAY
"$bin/ansible-playbook" -i localhost, -c local -e "ansible_python_interpreter=$bin/python out=$tmp/hook" \
    "$tmp/hook_check.yml" --check --diff > "$tmp/hook.log" 2>&1 || { cat "$tmp/hook.log"; fail "the hook role failed in check mode"; }
grep -q "install it as $tmp/hook/modules/libmesos_xfs_quota_hook-mesos1.11.0-NEW-BUILD.so" "$tmp/hook.log" \
    || { cat "$tmp/hook.log"; fail "the hook role's check mode did not say what it would install"; }
[ ! -e "$tmp/hook" ] || fail "the hook role's check mode wrote $(find "$tmp/hook" | head -3)"

# The report with Ansible's defaults (an empty ansible.cfg, as a user without ours has): a table a
# line each, and the hosts it could not read with their reason (this host's directory is not on
# XFS; a host that does not answer), also as CSV and JSON with -e report_dir.
: > "$tmp/empty.cfg"
mkdir -p "$tmp/not-xfs"
printf '[mesos_agents]\nhere ansible_connection=local ansible_python_interpreter=%s\nnowhere ansible_host=127.0.0.1 ansible_port=1 ansible_connection=ssh\n' \
    "$bin/python" > "$tmp/inventory"
ANSIBLE_CONFIG=$tmp/empty.cfg "$bin/ansible-playbook" -i "$tmp/inventory" mesos.xfs_quota.report \
    -e "work_dir=$tmp/not-xfs report_dir=$tmp/report ansible_become=false" > "$tmp/report.log" 2>&1 \
    || { cat "$tmp/report.log"; fail "the report failed"; }
for line in '"NOT READ: 2 host(s), not in the tables below",' '"host     reason",' \
            '"FULLEST PROJECTS (top 20)",' '"no project has a block limit",' '"FULLEST TASK SANDBOXES (top 20)",'; do
    grep -qF -- "$line" "$tmp/report.log" || { cat "$tmp/report.log"; fail "the report has no line $line"; }
done
grep -qE '^ +"here +failed: .*not-xfs.*",$' "$tmp/report.log" || { cat "$tmp/report.log"; fail "the report does not say why 'here' was not read"; }
grep -qE '^ +"nowhere +unreachable: .*",$' "$tmp/report.log" || { cat "$tmp/report.log"; fail "the report does not say why 'nowhere' was not read"; }
if [ "$(wc -l < "$tmp/report/failed_hosts.csv")" != 3 ] || ! grep -q '^here,' "$tmp/report/failed_hosts.csv"; then
    cat "$tmp/report/failed_hosts.csv"; fail "failed_hosts.csv does not list both hosts"
fi
"$bin/python" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(len(d["failed_hosts"]) != 2)' "$tmp/report/report.json" \
    || fail "report.json does not list both hosts"

# The metrics role installs its alert rules and dashboard on the monitoring host when asked (here the
# controller), the files the role ships, nothing else (--tags metrics_monitoring).
cat > "$tmp/monitoring.yml" <<'PLAY'
- name: The metrics role's alert rules and dashboard
  hosts: all
  gather_facts: false
  roles:
    - role: mesos.xfs_quota.metrics
      vars: {metrics_alert_rules_file: "{{ out }}/prometheus/rules/mesos-xfs-quota.yml",
             metrics_dashboard_file: "{{ out }}/grafana/dashboards/mesos-xfs-quota.json"}
PLAY
"$bin/ansible-playbook" -i localhost, -c local -e "ansible_python_interpreter=$bin/python out=$tmp/monitoring" \
    "$tmp/monitoring.yml" --tags metrics_monitoring > "$tmp/monitoring.log" 2>&1 || { cat "$tmp/monitoring.log"; fail "the metrics role's monitoring files failed"; }
cmp "$tmp/monitoring/prometheus/rules/mesos-xfs-quota.yml" "$tmp/content/roles/metrics/files/prometheus/mesos-xfs-quota-alerts.yml" \
    || fail "the metrics role did not install its alert rules"
cmp "$tmp/monitoring/grafana/dashboards/mesos-xfs-quota.json" "$tmp/content/roles/metrics/files/grafana/mesos-xfs-quota-dashboard.json" \
    || fail "the metrics role did not install its dashboard"

# Reproducible builds: the hook built twice, in two clean build directories with two empty
# controller caches, is the same file under the same name, so a rebuild on a fresh controller (an
# execution environment) restarts no agent. Each run says how far the build is, and keeps two builds
# (the current one and the one before it) on the controller and in the agent's module directory.
# The test-only API stub comes from the repository (the tarball does not hold it).
cat > "$tmp/hook_build.yml" <<'PLAY'
- name: The hook role, built here and installed here
  hosts: all
  gather_facts: false
  roles:
    - role: mesos.xfs_quota.hook
      vars: {hook_mesos_version: "1.11.0", hook_build_host: localhost, hook_artifacts_dir: "{{ out }}/artifacts",
             hook_build_dir: "{{ out }}/build", hook_install_dir: "{{ out }}/modules", agent_service: no-such-unit,
             _hook_test_api_stub: "{{ stub }}"}
  post_tasks:
    - name: The installed library
      ansible.builtin.debug:
        msg: "LIBRARY {{ hook_library | basename }}"
PLAY
old_build() {  # an earlier build's file, $3 days old
    mkdir -p "$1" && echo "old build" > "$1/$2" && touch -d "$3 days ago" "$1/$2"
}
for run in first second; do
    out=$tmp/$run
    old_build "$out/modules" libmesos_xfs_quota_hook-mesos1.11.0-aaaaaaaaaaaa.so 3
    old_build "$out/modules" libmesos_xfs_quota_hook-mesos1.11.0-bbbbbbbbbbbb.so 2
    old_build "$out/artifacts/1.11.0" libmesos_xfs_quota_hook-mesos1.11.0-cccccccccccc.so 2
    old_build "$out/artifacts/1.11.0" libmesos_xfs_quota_hook-mesos1.11.0-dddddddddddd.so 1
    "$bin/ansible-playbook" -i localhost, -c local -e "ansible_python_interpreter=$bin/python out=$out stub=$repo/tests/doubles/mesos_stub" \
        "$tmp/hook_build.yml" > "$tmp/$run.log" 2>&1 || { cat "$tmp/$run.log"; fail "the hook role's $run build failed"; }
done
grep -q 'step 2 of 2: the Mesos glue' "$tmp/first.log" || { cat "$tmp/first.log"; fail "the build did not say how far it is"; }
sums=$(sha256sum "$tmp"/{first,second}/artifacts/1.11.0/libmesos_xfs_quota_hook.so | cut -d' ' -f1 | uniq | wc -l)
[ "$sums" = 1 ] || { sha256sum "$tmp"/{first,second}/artifacts/1.11.0/libmesos_xfs_quota_hook.so; fail "two builds of the same sources differ"; }
names=$(grep -ho 'LIBRARY [^"]*' "$tmp"/{first,second}.log | sort -u)
[ "$(echo "$names" | wc -l)" = 1 ] || fail "two builds of the same sources have two names: $names"
library=${names#LIBRARY }
listing() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort | tr '\n' ' '; }
sorted() { printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' '; }
[ "$(listing "$tmp/first/modules")" = "$(sorted libmesos_xfs_quota_hook-mesos1.11.0-bbbbbbbbbbbb.so "$library")" ] \
    || fail "the agent kept $(listing "$tmp/first/modules"), not $library and the one before it"
[ "$(listing "$tmp/first/artifacts/1.11.0")" = "$(sorted libmesos_xfs_quota_hook-mesos1.11.0-dddddddddddd.so "$library" libmesos_xfs_quota_hook.so)" ] \
    || fail "the controller kept $(listing "$tmp/first/artifacts/1.11.0"), not $library and the one before it"

echo "tarball_test: contents, README, install, playbook syntax, the no-agent failure, inventory variables and the hook role in check mode are right; the hook builds reproducibly and old builds are pruned"
