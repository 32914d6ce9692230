#!/usr/bin/env bash
# Boot, reach and stop throw-away test VMs (QEMU TCG; the host kernel has no XFS quota).
#
#   vm.sh image             build (or reuse) the cached image; prints its dir
#   vm.sh up   NAME [PORT]  build/reuse the image, boot, wait for SSH; prints the state dir
#   vm.sh down NAME         stop the VM this script started (by its pid file) and forget it
#   vm.sh ssh  NAME [CMD..] run a command in the VM as root
#   vm.sh inventory NAME    print the state dir's Ansible inventory path
#
# Each VM has its own state dir ($MXQ_VM_STATE/NAME): a qcow2 overlay on the cached image
# (the image stays pristine), a fresh data disk (/dev/vdb, for XFS), pid file, serial log,
# ssh_config and an Ansible inventory. SSH is forwarded on 127.0.0.1 only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
state_root=${MXQ_VM_STATE:-$repo/.vm}
boot_timeout=${MXQ_VM_BOOT_TIMEOUT:-600}  # three VMs booting at once on a busy 2-core host took over 240 s
data_disk_mb=${MXQ_VM_DATA_DISK_MB:-1024}
mem_mb=${MXQ_VM_MEM_MB:-2048}

usage() { sed -n '2,13p' "$0" >&2; exit 2; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

vm_ssh() {  # vm_ssh STATE_DIR ARGS...
    local dir=$1; shift
    ssh -F "$dir/ssh_config" mxq-vm "$@"
}

is_running() {  # is_running STATE_DIR: our qemu, by pid file, still alive
    local pid
    [[ -f $1/qemu.pid ]] || return 1
    pid=$(<"$1/qemu.pid")
    [[ -d /proc/$pid ]] && grep -q qemu-system "/proc/$pid/cmdline" 2>/dev/null
}

cmd_up() {
    local name=$1 port=${2:-} dir image start pid
    dir=$state_root/$name
    if is_running "$dir"; then
        echo "VM $name already running (pid $(<"$dir/qemu.pid"))" >&2
        echo "$dir"; return 0
    fi
    image=$("$here/image-recipe.sh")
    [[ -n $port ]] || port=$(free_port)
    rm -rf "$dir"; mkdir -p "$dir"
    qemu-img create -q -f qcow2 -F raw -b "$image/root.img" "$dir/root.qcow2"
    truncate -s "${data_disk_mb}M" "$dir/data.img"
    echo "$port" > "$dir/port"
    cat > "$dir/ssh_config" <<CFG
Host mxq-vm
    HostName 127.0.0.1
    Port $port
    User root
    IdentityFile $image/id_ed25519
    IdentitiesOnly yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
    ConnectTimeout 5
CFG
    cat > "$dir/inventory.yml" <<INV
all:
  hosts:
    $name:
      ansible_host: 127.0.0.1
      ansible_port: $port
      ansible_user: root
      ansible_ssh_private_key_file: $image/id_ed25519
      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes
      ansible_python_interpreter: /usr/bin/python3
      mxq_data_disk: /dev/vdb
INV
    start=$SECONDS
    qemu-system-x86_64 -name "mxq-$name" -machine q35 -accel tcg,thread=multi -cpu qemu64 \
        -smp 2 -m "$mem_mb" \
        -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
        -append 'root=/dev/vda rw console=ttyS0 quiet' \
        -drive "file=$dir/root.qcow2,if=virtio,format=qcow2" \
        -drive "file=$dir/data.img,if=virtio,format=raw" \
        -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:22" \
        -display none -serial "file:$dir/serial.log" \
        -daemonize -pidfile "$dir/qemu.pid"
    until vm_ssh "$dir" true 2>/dev/null; do
        if ! is_running "$dir" || (( SECONDS - start > boot_timeout )); then
            echo "VM $name: no SSH on 127.0.0.1:$port after $((SECONDS - start)) s; serial log tail:" >&2
            tail -n 40 "$dir/serial.log" >&2 || true
            cmd_down "$name" >/dev/null 2>&1 || true
            return 1
        fi
        sleep 1
    done
    echo "VM $name: boot to SSH in $((SECONDS - start)) s (127.0.0.1:$port)" >&2
    echo "$dir"
}

cmd_down() {
    local name=$1 dir pid
    dir=$state_root/$name
    if is_running "$dir"; then
        pid=$(<"$dir/qemu.pid")
        kill "$pid"
        for _ in $(seq 50); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
        [[ -d /proc/$pid ]] && kill -9 "$pid"
        echo "VM $name stopped" >&2
    fi
    # Keep the serial log of the last run for post-mortems; drop the disks.
    [[ -f $dir/serial.log ]] && cp "$dir/serial.log" "$state_root/$name.serial.log"
    rm -rf "$dir"
}

[[ ${1:-} == image ]] && exec "$here/image-recipe.sh"
[[ $# -ge 2 ]] || usage
action=$1 name=$2; shift 2
[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "bad VM name: $name" >&2; exit 2; }
case $action in
    up) cmd_up "$name" "$@" ;;
    down) cmd_down "$name" ;;
    ssh) vm_ssh "$state_root/$name" "$@" ;;
    inventory) echo "$state_root/$name/inventory.yml" ;;
    *) usage ;;
esac
