#!/usr/bin/env bash
# Build the hook, its core tests and the agent test double for an older Debian suite's VM.
# Binaries built on this bookworm host need glibc 2.34 and GCC 12's libstdc++, which bullseye
# (glibc 2.31, GCC 10) lacks; so they are built in a chroot of that suite instead, at the host's
# speed (a TCG VM compiles about ten times slower).
#
#   build-for-suite.sh SUITE OUT_DIR   -> OUT_DIR holds what `make hook` puts in .build/hook
#
# The chroot (compiler, cmake, glog, nlohmann-json, googletest, OpenSSL of SUITE) is made with mmdebstrap
# from the mirror apt uses here and cached like the VM image: $MXQ_CACHE_DIR/buildroot-SUITE-<hash>.
set -euo pipefail

suite=${1:?usage: build-for-suite.sh SUITE OUT_DIR}
out=${2:?usage: build-for-suite.sh SUITE OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache_root=${MXQ_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mesos-xfs-quota}
packages=g++,make,cmake,libgoogle-glog-dev,nlohmann-json3-dev,libgtest-dev,libssl-dev
root_hash=$({ echo "$suite $packages"; } | sha256sum | cut -c1-16)
root=$cache_root/buildroot-$suite-$root_hash

mkdir -p "$cache_root"
if [[ ! -f $root/.complete ]]; then
    exec 9>"$cache_root/.buildroot.lock"
    flock 9
    if [[ ! -f $root/.complete ]]; then
        tmp=$(mktemp -d "$cache_root/.buildroot-XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        host_suite=$(sed -n "s/^VERSION_CODENAME=//p" /etc/os-release)
        for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
            if [[ -s $f ]] && grep -Eq '^(deb |URIs:)' "$f"; then
                sed "s/\b$host_suite\b/$suite/g" "$f" > "$tmp/sources"; break
            fi
        done
        echo "building the $suite build chroot ..." >&2
        mmdebstrap --mode=root --variant=minbase --quiet --include="$packages" \
            "$suite" "$tmp/root" "$tmp/sources" >&2
        touch "$tmp/root/.complete"
        rm -rf "$root"
        mv "$tmp/root" "$root"
        rm -rf "$tmp"
        trap - EXIT
    fi
    exec 9>&-
fi

# Each build has its own directory in the chroot: two checkouts may build at once.
work=$(mktemp -d "$root/tmp/mxq-build-XXXXXX")
trap 'rm -rf "$work"' EXIT
inside=/tmp/$(basename "$work")
mkdir -p "$work/src"
cp -a "$repo/hook" "$repo/bench" "$work/src/"
start=$SECONDS
if ! { chroot "$root" cmake -S "$inside/src/hook" -B "$inside/build" -DMXQ_MESOS_STUB=ON \
           -DCMAKE_BUILD_TYPE=RelWithDebInfo \
       && chroot "$root" cmake --build "$inside/build" -j2 \
           --target core_test mesos-agent-double mxq_test_other_hook mesos_xfs_quota_hook; } >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    exit 1
fi
mkdir -p "$out"
for f in core_test mesos-agent-double libmxq_test_other_hook.so libmesos_xfs_quota_hook.so; do
    install -m "$( [[ $f == *.so ]] && echo 0644 || echo 0755 )" "$work/build/$f" "$out/$f"
done
echo "built for $suite in $((SECONDS - start)) s: $out" >&2
