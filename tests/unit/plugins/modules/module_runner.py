"""Run a module's main() in-process against a fake host: a tmp directory as an XFS mount + the fake kernel."""
from __future__ import annotations

import contextlib
import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings

try:  # ansible-core 2.19+: its own test helpers
    from ansible.module_utils import _internal
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.17, 2.18 (make matrix): the arguments and the result by hand
    _internal = None

    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()):
            yield

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _quota, _xfs

try:  # absent before the state logic left the module (lets these tests run against older code)
    from ansible_collections.mesos.xfs_quota.plugins.module_utils import _xfs_project
except ImportError:  # pragma: no cover
    _xfs_project = _xfs
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.module_utils.fake_kernel import FakeKernel, mountinfo_line


@dataclass
class FakeHost:
    """A file system at ``mnt`` (XFS with project quota, to the fake kernel) and project files in ``etc``."""

    root: Path
    kernel: FakeKernel = field(init=False)

    def __post_init__(self) -> None:
        self.mnt = self.root / "mnt"
        self.etc = self.root / "etc"
        self.mnt.mkdir(exist_ok=True)
        self.etc.mkdir(exist_ok=True)
        self.kernel = FakeKernel("1 0 8:1 / / rw - ext4 /dev/sda rw\n" + mountinfo_line(40, str(self.mnt)))

    @property
    def projid(self) -> Path:
        return self.etc / "projid"

    @property
    def projects(self) -> Path:
        return self.etc / "projects"

    def files_args(self) -> dict[str, str]:
        return {"projid_file": str(self.projid), "projects_file": str(self.projects)}

    def project_of(self, path: Path | str) -> int:
        return self.kernel.project_of_path(str(path))[1]

    def snapshot(self) -> tuple:
        """Everything a module may change: file bytes (etc and mnt), project ids, dquots."""
        files = {}
        for base in (self.etc, self.mnt):
            for dirpath, dirnames, filenames in os.walk(base):
                for name in filenames + dirnames:
                    path = os.path.join(dirpath, name)
                    if name.endswith(".lock"):  # the flock protocol's file, created on first use
                        continue
                    if os.path.isfile(path) and not os.path.islink(path):
                        files[path] = Path(path).read_bytes()
                    else:
                        files[path] = None
        return files, dict(self.kernel.attrs), copy.deepcopy(self.kernel.dquots)

    def run(self, module, args: dict[str, Any], check_mode: bool = False, diff: bool = False) -> dict[str, Any]:
        """main() of ``module`` with ``args`` (plus the project files); its result, failed or not."""
        args = {**self.files_args(), **args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
        results: list[dict[str, Any]] = []
        # is_controller: once a controller-side plugin was imported, warnings would go to the display
        kernels = [mock.patch.object(owner, "Kernel", lambda: self.kernel)
                   for owner in (module, _xfs, _quota, _xfs_project) if hasattr(owner, "Kernel")]
        with patch_module_args(args), contextlib.ExitStack() as stack:
            if _internal is not None:
                stack.enter_context(mock.patch.object(_internal, "is_controller", False))
                stack.enter_context(mock.patch.dict(module_warnings._global_warnings, clear=True))
                stack.enter_context(mock.patch.object(basic.AnsibleModule, "_record_module_result",
                                                      lambda _self, o: results.append(o)))
            else:
                def record(_self, kwargs):
                    warnings = module_warnings.get_warning_messages()
                    results.append({**kwargs, **({"warnings": list(warnings)} if warnings else {})})
                stack.enter_context(mock.patch.object(module_warnings, "_global_warnings", []))
                stack.enter_context(mock.patch.object(basic.AnsibleModule, "_return_formatted", record))
            for patch in kernels:
                stack.enter_context(patch)
            try:
                module.main()
            except SystemExit:
                pass
        assert len(results) == 1, results
        result = results[0]
        result["warnings"] = [getattr(getattr(w, "event", None), "msg", None) or str(w) for w in result.get("warnings", [])]
        return result
