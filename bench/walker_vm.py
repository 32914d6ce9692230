# SPDX-License-Identifier: GPL-3.0-or-later
"""In the VM: assign a 100k-file tree to a project with the collection's walker
(module_utils._tree_walk.assign_tree, what xfs_project runs) and with `xfs_quota -x -c 'project -s'`,
cold and warm cache, and show which of the two crosses a bind mount of the same file system.
Each case runs ROUNDS times (env BENCH_ROUNDS, default 5), alternating the two; the medians are
compared. Goal: our single-process walker within 1.0x of xfs_quota, warm cache, and a peak RSS
that does not grow with the tree (printed after the walks).

    python3 walker_vm.py COLLECTIONS_ROOT MOUNTPOINT [FILES]
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, sys.argv[1])
from ansible_collections.mesos.xfs_quota.plugins.module_utils._tree_walk import assign_tree  # noqa: E402
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import XfsFilesystem  # noqa: E402

MOUNT = sys.argv[2]
FILES = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
TREE = os.path.join(MOUNT, "tree")
PER_DIR = 1000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def build_tree() -> None:
    if os.path.isdir(TREE):
        return
    for d in range(FILES // PER_DIR):
        sub = os.path.join(TREE, f"d{d // 10}", f"e{d}")
        os.makedirs(sub)
        for f in range(PER_DIR):
            os.close(os.open(os.path.join(sub, f"f{f}"), os.O_CREAT | os.O_WRONLY, 0o644))


def drop_caches() -> None:
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w", encoding="ascii") as f:
        f.write("3\n")


def xfs_quota(project_id: int) -> float:
    started = time.monotonic()
    subprocess.run(["xfs_quota", "-x", "-c", f"project -s -p {TREE} {project_id}", MOUNT],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


FENCE = []


def ours(project_id: int) -> float:
    started = time.monotonic()
    result = assign_tree(XfsFilesystem(TREE), TREE, project_id)
    elapsed = time.monotonic() - started
    assert result.changed >= FILES, result
    FENCE[:] = [result.fence]
    return elapsed


def line(what: str, ours_s: float, ref_s: float) -> None:
    print(f"{what:<44} {ours_s:8.2f} s ({FILES / ours_s:7.0f} files/s) vs xfs_quota {ref_s:8.2f} s "
          f"({FILES / ref_s:7.0f} files/s)  ratio {ours_s / ref_s:5.2f}x  (goal <= 1.0x warm)")


def bind_mount_check() -> None:
    """Bind mounts of the same file system inside the tree (a directory, a file): who reassigns what lies outside?"""
    outside, inside = os.path.join(MOUNT, "outside"), os.path.join(TREE, "volume")
    outside_file, inside_file = os.path.join(MOUNT, "outside-file"), os.path.join(TREE, "bound-file")
    shutil.rmtree(outside, ignore_errors=True)  # fresh files with project 0 each run: new inodes, since
    for path in (outside_file, inside_file):  # rewriting a file keeps the project an earlier run gave it
        if os.path.lexists(path):
            os.unlink(path)
    os.makedirs(outside)
    os.makedirs(inside, exist_ok=True)
    for path in (os.path.join(outside, "keep"), outside_file, inside_file):
        with open(path, "w", encoding="ascii") as f:
            f.write("outside the tree\n")
    subprocess.run(["mount", "--bind", outside, inside], check=True)
    subprocess.run(["mount", "--bind", outside_file, inside_file], check=True)
    try:
        fs = XfsFilesystem(TREE)
        for name, run in (("ours", lambda: assign_tree(fs, TREE, 9001)), ("xfs_quota", lambda: xfs_quota(9002))):
            run()
            print(f"bind mounts of the same file system inside the tree: {name:<9} left the directory's file "
                  f"outside with project {fs.project_of(os.path.join(outside, 'keep'))[0]}, the bound file with "
                  f"project {fs.project_of(outside_file)[0]}")
    finally:
        subprocess.run(["umount", inside], check=True)
        subprocess.run(["umount", inside_file], check=True)


def main() -> None:
    build_tree()
    print(f"{FILES} files in {FILES // PER_DIR} directories; our walker is one process; "
          f"median of {ROUNDS} rounds each")
    project = 8000
    for cache in ("cold", "warm"):
        times: dict[str, list[float]] = {"xfs_quota": [], "ours": []}
        for _round in range(ROUNDS):
            for name, run in (("xfs_quota", xfs_quota), ("ours", ours)):
                project += 1
                if cache == "cold":
                    drop_caches()
                else:
                    run(project + 500)  # warm the cache with a different id, so the timed run changes every inode
                times[name].append(run(project))
        line(f"assign {FILES} files, {cache} cache", statistics.median(times["ours"]),
             statistics.median(times["xfs_quota"]))
    print(f"our walker's mount fence: {FENCE[0]}; peak RSS of this process (tree built, walked "
          f"{2 * ROUNDS} times): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")
    bind_mount_check()


if __name__ == "__main__":
    main()
