# shellcheck shell=bash
# A process whose root file system is an XFS loop image (in its own mount namespace), and a
# python3 that runs beside it: modules given that python as interpreter see "/" as the XFS.
# This runs xfs_mount on an XFS root although the test VM boots from ext4.
#   xfs_root.sh OPTIONS [GRUB_CMDLINE]   prints the interpreter's path
#   xfs_root.sh --clean OPTIONS
set -euo pipefail
clean=false
if [ "$1" = --clean ]; then clean=true; shift; fi
opt=$1                        # mount options of the root: defaults or prjquota
cmdline=${2:-console=ttyS0}   # GRUB_CMDLINE_LINUX the GRUB defaults start with
name=xfsroot-$opt
img=/var/tmp/$name.img
mnt=/mnt/$name
pidfile=/run/$name.pid

if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; fi
umount -l "$mnt" 2>/dev/null || true
for dev in $(losetup -j "$img" -O NAME -n); do losetup -d "$dev"; done
rm -f "$img" "/usr/local/bin/python3-$name"
if $clean; then exit 0; fi

truncate -s 300M "$img"
dev=$(losetup --find --show "$img")
mkfs.xfs -q -f "$dev"
mkdir -p "$mnt"
mount -o "$opt" "$dev" "$mnt"
mkdir -p "$mnt"/{etc/default,proc,dev,tmp,oldroot,usr,root}
for link in bin lib lib64 sbin; do ln -s "usr/$link" "$mnt/$link"; done
printf '# written by the test\nGRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="%s"\n' "$cmdline" > "$mnt/etc/default/grub"
printf '%s / xfs defaults 0 1\n' "$dev" > "$mnt/etc/fstab"

# pivot_root in a private mount namespace; the process then sleeps with the XFS as its root
setsid unshare -m --propagation private sh -c "
  echo \$\$ > $pidfile
  mount --rbind /dev $mnt/dev && mount -t proc proc $mnt/proc && mount --bind /usr $mnt/usr
  cd $mnt && pivot_root . oldroot && umount -l /oldroot && exec sleep 3600" </dev/null >/dev/null 2>&1 &
for _ in $(seq 100); do  # until the process's root is the XFS
  [ -s "$pidfile" ] && [ "$(nsenter -t "$(cat "$pidfile")" -m -r stat -f -c %T / 2>/dev/null)" = xfs ] && break
  sleep 0.1
done
printf '#!/bin/sh\nexec nsenter -t %s -m -r -w /usr/bin/python3 "$@"\n' "$(cat "$pidfile")" > "/usr/local/bin/python3-$name"
chmod 0755 "/usr/local/bin/python3-$name"
echo "/usr/local/bin/python3-$name"
