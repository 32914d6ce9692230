"""The hook library's parameter check (mesos_xfs_quota_hook_check_parameters), loaded with dlopen as
a role's child process loads it: the same parser and rules as the hook's create(), nothing started
or changed. Needs `make hook` (`make units` builds it first); the accepted case on a real XFS is in
hook/tests/harness_test.py (the test VM)."""

from __future__ import annotations

import ctypes
import os

import pytest

BUILD = os.environ.get("MXQ_HOOK_BUILD", os.path.join(os.path.dirname(__file__), "../../../.build/hook"))
LIBRARY = os.path.join(BUILD, "libmesos_xfs_quota_hook.so")


@pytest.fixture(scope="module")
def check():
    assert os.path.exists(LIBRARY), f"{LIBRARY} is not built: run make hook"
    function = ctypes.CDLL(os.path.abspath(LIBRARY)).mesos_xfs_quota_hook_check_parameters
    function.restype = ctypes.c_int
    function.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t,
                         ctypes.c_char_p, ctypes.c_size_t]

    def call(parameters, size=4096, keys=None):
        keys = keys if keys is not None else [k.encode() for k in parameters]
        key_array = (ctypes.c_char_p * len(keys))(*keys)
        value_array = (ctypes.c_char_p * len(keys))(*(v.encode() for v in parameters.values()))
        message = ctypes.create_string_buffer(size) if size else None
        status = function(key_array, value_array, len(keys), message, size)
        return status, (message.raw.split(b"\0", 1)[0].decode() if size else None)

    return call


BASE = {"work_dir": "/nonexistent/mesos", "project_ids": "20000-29999"}


def test_parameters_the_hook_would_start_with(check):
    status, message = check({**BASE, "default_limit": "10g", "max_limit": "1t", "bytes_per_inode": "8k"})
    assert status == 0
    assert "does not exist yet" in message  # accepted, as create() accepts it: the agent makes it later


@pytest.mark.parametrize(("parameters", "named"), [
    ({**BASE, "defualt_limit": "1g"}, "unknown parameter 'defualt_limit'; the parameters are: work_dir, project_ids"),
    ({**BASE, "default_limit": "10x"}, "default_limit: cannot read '10x' as a size"),
    ({**BASE, "project_ids": "9-3"}, "project_ids: '9-3' must go from a first id up to a last id"),
    ({**BASE, "max_tree_entries": "100"}, "max_tree_entries: no longer a parameter"),
    ({**BASE, "max_limit": "1g"}, "default_limit: 0 means no limit, which max_limit forbids"),
    ({"project_ids": "1-2"}, "work_dir: missing"),
    ({**BASE, "work_dir": "/proc"}, "is on /proc (proc), not on XFS"),
    ({**BASE, "work_dir": "/etc/hostname"}, "work_dir: cannot open /etc/hostname"),
])
def test_a_refusal_names_the_parameter_and_the_fix(check, parameters, named):
    status, message = check(parameters)
    assert status == 1
    assert named in message


def test_the_message_is_one_line_and_cut_to_the_buffer(check):
    status, message = check({**BASE, "default_limit": "1g\nE1207 forged"})
    assert status == 1
    assert "\n" not in message and "'1g\\x0aE1207 forged'" in message
    status, cut = check({**BASE, "default_limit": "10x"}, size=16)
    assert status == 1 and cut == "default_limit: "  # 15 characters and the NUL
    assert check({**BASE, "default_limit": "10x"}, size=0) == (1, None)  # no buffer: the status alone


def test_a_null_key_is_refused_not_a_crash(check):
    status, message = check({"work_dir": "/w"}, keys=[None])
    assert status == 2
    assert "parameter 0: its key or value is a null pointer" in message
