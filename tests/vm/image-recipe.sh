#!/usr/bin/env bash
# Build the Debian test-VM image: kernel, initrd and an ext4 root image. MXQ_VM_SUITE chooses
# the release: bookworm (default; kernel 6.1) or bullseye (kernel 5.10, xfsprogs 5.10, Python 3.9),
# the two suites reachable here. Everything comes from Debian packages through the mirror apt is
# configured with on this machine; no loop mounts (mkfs.ext4 -d fills the image from a directory).
#
# The result is cached under $MXQ_CACHE_DIR/vm-<suite>-<hash of this file and the suite>/ so a
# second run (or a second checkout) reuses it. Usage: image-recipe.sh  -> prints the image dir.
set -euo pipefail

# Packages baked into the image. g++/make/cmake build the hook inside the VM.
# Docker is baked in because installing it in the TCG VM triggers a ~15 min initramfs rebuild;
# with AppArmor on (Debian's kernel default) every `docker run` needs apparmor_parser.
# busybox-static becomes the local test image (no registry is reachable).
PACKAGES=systemd-sysv,udev,kmod,dbus,linux-image-amd64,openssh-server,python3,python3-apt,xfsprogs,e2fsprogs,sudo,iproute2,procps,g++,make,cmake,docker.io,apparmor,busybox-static
ROOT_SIZE_MB=3072
SUITE=${MXQ_VM_SUITE:-bookworm}
# glog: the test double's runtime; on bullseye the hook is also built in the VM (binaries built
# on this bookworm host need glibc 2.34), so its headers come too.
case $SUITE in
    bookworm) PACKAGES+=,libgoogle-glog0v6 ;;
    bullseye) PACKAGES+=,libgoogle-glog0v5,libgoogle-glog-dev ;;
    *) echo "MXQ_VM_SUITE=$SUITE: choose bookworm or bullseye (the Debian suites reachable here)" >&2; exit 2 ;;
esac
HOSTNAME_IN_VM=mxq-testvm

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${MXQ_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mesos-xfs-quota}
recipe_hash=$({ cat "$here/image-recipe.sh"; echo "suite=$SUITE"; } | sha256sum | cut -c1-16)
image_dir=$cache_root/vm-$SUITE-$recipe_hash

if [[ -f $image_dir/.complete ]]; then
    echo "$image_dir"
    exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.build.lock"
flock 9   # another build of the same cache finishes first; then reuse its result
if [[ -f $image_dir/.complete ]]; then
    echo "$image_dir"
    exit 0
fi

work=$(mktemp -d "$cache_root/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT

# The mirror apt already uses here (deb822 or one-line sources), with this host's release name
# replaced by the suite's (bookworm-security becomes bullseye-security, and so on).
host_suite=$(sed -n "s/^VERSION_CODENAME=//p" /etc/os-release)
mirror_args=()
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    if [[ -s $f ]] && grep -Eq '^(deb |URIs:)' "$f"; then
        sed "s/\b$host_suite\b/$SUITE/g" "$f" > "$work/sources"
        mirror_args=("$work/sources"); break
    fi
done
start=$SECONDS
ssh-keygen -q -t ed25519 -N '' -C mxq-throwaway -f "$work/id_ed25519"

echo "building $SUITE VM image (recipe $recipe_hash) ..." >&2
# A root file system tarball for `docker import`, the local test image of the Docker tests:
# busybox-static with its applets linked, nothing else.
# shellcheck disable=SC2016  # expanded by mmdebstrap's shell, not here
busybox_rootfs_hook='set -e; t=$(mktemp -d); mkdir -p "$t/bin" "$t/tmp" "$t/mnt/mesos/sandbox";
cp "$1/bin/busybox" "$t/bin/busybox"; chroot "$1" /bin/busybox --list | while read -r a; do
[ "$a" = busybox ] || ln -s busybox "$t/bin/$a"; done; mkdir -p "$1/usr/local/share/mxq";
tar -C "$t" -cf "$1/usr/local/share/mxq/busybox-rootfs.tar" .; rm -rf "$t"'
# The hooks are single-quoted on purpose: mmdebstrap runs them with the rootfs path as $1.
# shellcheck disable=SC2016
mmdebstrap --mode=root --variant=minbase --quiet \
    --include="$PACKAGES" \
    --customize-hook="echo $HOSTNAME_IN_VM > \"\$1/etc/hostname\"" \
    --customize-hook="printf '127.0.0.1 localhost\n127.0.1.1 $HOSTNAME_IN_VM\n' > \"\$1/etc/hosts\"" \
    --customize-hook='echo "/dev/vda / ext4 defaults,errors=remount-ro 0 1" > "$1/etc/fstab"' \
    --customize-hook='rm -f "$1/etc/resolv.conf"; echo "nameserver 10.0.2.3" > "$1/etc/resolv.conf"' \
    --customize-hook='printf "[Match]\nName=e*\n\n[Network]\nDHCP=yes\n" > "$1/etc/systemd/network/20-wired.network"' \
    --customize-hook='chroot "$1" systemctl enable systemd-networkd' \
    --customize-hook='chroot "$1" systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer' \
    --customize-hook='chroot "$1" systemctl disable docker.service docker.socket containerd.service' \
    --customize-hook="$busybox_rootfs_hook" \
    --customize-hook="mkdir -m 700 -p \"\$1/root/.ssh\" && install -m 600 '$work/id_ed25519.pub' \"\$1/root/.ssh/authorized_keys\"" \
    --customize-hook="cp -L \"\$1/vmlinuz\" '$work/vmlinuz' && cp -L \"\$1/initrd.img\" '$work/initrd.img'" \
    "$SUITE" "$work/rootfs" "${mirror_args[@]}"

mkfs.ext4 -q -F -L mxq-root -d "$work/rootfs" "$work/root.img" "${ROOT_SIZE_MB}M" >&2  # stdout carries only the result
rm -rf "$work/rootfs"
echo "$recipe_hash" > "$work/.complete"
rm -rf "$image_dir"
mv "$work" "$image_dir"
trap - EXIT
echo "VM image built in $((SECONDS - start)) s: $image_dir" >&2
echo "$image_dir"
