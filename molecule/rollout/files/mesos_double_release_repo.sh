#!/bin/sh
# A local apt repository of TEST DOUBLES of a Mesos package, for the upgrade side effect (upgrade.yml).
# The agent in the test VM is the collection's TEST DOUBLE of mesos-agent, which plays the Mesos release
# that MESOS_DOUBLE_MESOS_VERSION names. So a "Mesos package" here is a package mesos-double-release whose
# only content is the systemd drop-in that sets it for the double's unit: installing version V of it is
# how the double "becomes" Mesos V, as installing mesos=V swaps the binary of a real agent. Not Mesos.
#   mesos_double_release_repo.sh REPO_DIR UNIT VERSION...
set -eu
repo=$1 unit=$2
shift 2
rm -rf "$repo"
mkdir -p "$repo"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for version in "$@"; do
    root=$work/$version
    mkdir -p "$root/DEBIAN" "$root/usr/lib/systemd/system/$unit.service.d"
    printf '[Service]\nEnvironment=MESOS_DOUBLE_MESOS_VERSION=%s\n' "$version" \
        > "$root/usr/lib/systemd/system/$unit.service.d/90-test-mesos-release.conf"
    cat > "$root/DEBIAN/control" <<CONTROL
Package: mesos-double-release
Version: $version
Architecture: all
Maintainer: mesos.xfs_quota tests <tests@invalid>
Description: TEST DOUBLE of a Mesos package (mesos.xfs_quota tests; this is not Mesos)
 Sets the Mesos release that the agent test double $unit plays.
CONTROL
    dpkg-deb --root-owner-group -Zgzip --build "$root" "$repo/mesos-double-release_${version}_all.deb" >/dev/null
done
# the index apt reads (dpkg-scanpackages is in dpkg-dev, not in the VM): each control file, where the
# package lies, its size and hash
python3 - "$repo" <<'PY'
import hashlib, os, subprocess, sys
repo = sys.argv[1]
entries = []
for name in sorted(os.listdir(repo)):
    if name.endswith(".deb"):
        path = os.path.join(repo, name)
        control = subprocess.run(["dpkg-deb", "--field", path], check=True, capture_output=True, text=True).stdout
        data = open(path, "rb").read()
        entries.append(control.rstrip("\n") + f"\nFilename: ./{name}\nSize: {len(data)}\n"
                       f"SHA256: {hashlib.sha256(data).hexdigest()}\n")
open(os.path.join(repo, "Packages"), "w").write("\n".join(entries))
PY
echo "deb [trusted=yes] file:$repo ./" > /etc/apt/sources.list.d/mesos-double-release.list
# only this source: the VM needs no network for it
apt-get update -qq -o Dir::Etc::SourceList=/etc/apt/sources.list.d/mesos-double-release.list \
    -o Dir::Etc::SourceParts=/dev/null -o APT::Get::List-Cleanup=0
