"""The hook built against an agent's Mesos (-DMESOS_ROOT, what the hook role does) carries no RUNPATH
of the build host's Mesos prefix: the agent's own library search must find libmesos.so."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

HOOK = os.path.join(os.path.dirname(__file__), "../../../hook")


@pytest.mark.skipif(not all(shutil.which(t) for t in ("cmake", "g++", "readelf", "pkg-config")),
                    reason="needs cmake, g++, readelf, pkg-config")
def test_the_library_has_no_runpath_of_the_mesos_prefix(tmp_path):
    # a stand-in Mesos prefix: the test-only API headers, an empty libmesos.so, mesos.pc
    prefix = tmp_path / "opt-mesos"
    (prefix / "lib" / "pkgconfig").mkdir(parents=True)
    os.symlink(os.path.abspath(os.path.join(HOOK, "../tests/doubles/mesos_stub/include")), prefix / "include")
    (tmp_path / "empty.cpp").write_text("int mesos_stand_in() { return 0; }\n")
    subprocess.run(["g++", "-shared", "-fPIC", "-Wl,-soname,libmesos.so", "-o", str(prefix / "lib/libmesos.so"),
                    str(tmp_path / "empty.cpp")], check=True)
    (prefix / "lib/pkgconfig/mesos.pc").write_text(
        f"prefix={prefix}\nName: mesos\nDescription: stand-in\nVersion: 1.11.0\n"
        "Cflags: -I${prefix}/include\nLibs: -L${prefix}/lib -lmesos -lglog\n")
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", HOOK, "-B", str(build), f"-DMESOS_ROOT={prefix}", "-DMXQ_TESTS=OFF",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True)
    subprocess.run(["nice", "cmake", "--build", str(build), "--target", "mesos_xfs_quota_hook", "-j2"], check=True,
                   capture_output=True)
    dynamic = subprocess.run(["readelf", "-d", str(build / "libmesos_xfs_quota_hook.so")], check=True,
                             capture_output=True, text=True).stdout
    assert "RUNPATH" not in dynamic and "RPATH" not in dynamic, dynamic
