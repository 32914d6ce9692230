"""When the agent role turns Mesos's linux/seccomp isolator on (auto, on, off), from the agent's
--help, /flags, version and the kernel's last capability."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import Host
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_seccomp import (
    CAP_LAST_CAP, SeccompIsolatorError, built_with_isolator, read_cap_last_cap, seccomp_isolator)

REAL_FLAGS = json.loads((Path(__file__).parent / "real_agent/1.11.0/flags.json").read_text())["flags"]
# stout's usage(): every flag of the build, "--name=VALUE" (src/slave/flags.cpp adds the seccomp ones
# only with ENABLE_SECCOMP_ISOLATOR)
HELP_WITH = "Usage: mesos-agent [options]\n\n  --seccomp_config_dir=VALUE  Directory path of the Seccomp profiles.\n"
HELP_WITHOUT = "Usage: mesos-agent [options]\n\n  --sandbox_directory=VALUE  The absolute path ...\n"
OLD_KERNEL = "37\n"  # Linux 4.x/5.4: CAP_AUDIT_READ is the last capability
NEW_KERNEL = "40\n"  # Linux 5.9 and later (6.1 here)
PROFILE = "mesos-xfs-quota.json"


def decide(mode: str = "auto", flags: dict | None = REAL_FLAGS, help_text: str | None = HELP_WITH,
           version: str = "1.11.0", cap: str | None = OLD_KERNEL):
    return seccomp_isolator(mode, flags, help_text, version, cap, PROFILE)


def test_auto_turns_it_on_where_the_build_has_it_and_the_kernel_is_older_than_5_8():
    verdict = decide()
    assert verdict.enable and "1.11.0" in verdict.reason


def test_auto_leaves_it_off_on_linux_5_8_and_later_with_a_released_mesos():
    verdict = decide(cap=NEW_KERNEL)
    assert not verdict.enable
    assert "MESOS-10203" in verdict.reason and "cap_last_cap 40" in verdict.reason
    # capability 38 (CAP_PERFMON, Linux 5.8) is the first one Mesos's capabilities.cpp does not know
    assert not decide(cap="38").enable and decide(cap="37").enable


def test_a_mesos_after_the_fix_may_run_it_on_any_kernel():
    assert decide(cap=NEW_KERNEL, version="1.12.0").enable
    assert not decide(cap=NEW_KERNEL, version="1.11.9").enable
    assert not decide(cap=NEW_KERNEL, version="").enable  # unknown version: not a guess


def test_a_build_without_the_isolator_is_left_alone_and_on_is_refused():
    assert not built_with_isolator(HELP_WITHOUT)
    verdict = decide(help_text=HELP_WITHOUT)
    assert not verdict.enable and "built without the linux/seccomp isolator" in verdict.reason
    with pytest.raises(SeccompIsolatorError, match="seccomp_isolator: on, but .*built without.*Nothing was changed"):
        decide("on", help_text=HELP_WITHOUT)


def test_the_real_agents_flags_do_not_tell_whether_the_build_has_it():
    # Http::_flags shows only flags with a value: a real 1.11.0 agent that has the isolator shows no
    # seccomp_config_dir until it is set, so --help decides
    assert "seccomp_config_dir" not in REAL_FLAGS
    assert decide(flags=dict(REAL_FLAGS)).enable


def test_what_cannot_be_read_leaves_it_off_in_auto():
    assert "could not be read" in decide(flags=None).reason and not decide(flags=None).enable
    assert "--help" in decide(help_text=None).reason and not decide(help_text=None).enable
    assert "cap_last_cap could not be read" in decide(cap=None).reason
    assert not decide(cap="garbage").enable


def test_an_agent_without_the_mesos_containerizer_needs_none():
    verdict = decide(flags={**REAL_FLAGS, "containerizers": "docker"})
    assert not verdict.enable and "--containerizers=docker" in verdict.reason
    assert decide(flags={**REAL_FLAGS, "containerizers": "docker,mesos"}).enable


def test_an_operators_own_default_profile_is_not_replaced():
    theirs = {**REAL_FLAGS, "isolation": "posix/cpu,linux/seccomp", "seccomp_config_dir": "/etc/mesos/seccomp",
              "seccomp_profile_name": "site.json"}
    verdict = decide(flags=theirs)
    assert not verdict.enable and "'site.json'" in verdict.reason
    with pytest.raises(SeccompIsolatorError, match="site.json"):
        decide("on", flags=theirs)
    # ours, from an earlier run: still ours
    assert decide(flags={**theirs, "seccomp_profile_name": PROFILE}).enable


def test_on_overrides_the_kernel_check_for_a_patched_mesos_and_says_so():
    verdict = decide("on", cap=NEW_KERNEL)
    assert verdict.enable and verdict.reason.startswith("turned on (seccomp_isolator: on) although Mesos 1.11.0 aborts")
    assert decide("on", flags=None).enable  # unknown /flags: the operator's word


def test_off_is_off_and_a_mode_is_checked():
    assert decide("off").as_result() == {"enable": False, "reason": "turned off (seccomp_isolator: off)",
                                         "ours_in_use": False}
    with pytest.raises(SeccompIsolatorError, match="'maybe' is not one of auto, on, off"):
        decide("maybe")


def test_ours_in_use_is_what_a_run_that_does_not_enable_it_takes_out():
    ours = {**REAL_FLAGS, "isolation": "posix/cpu,posix/mem,linux/seccomp", "seccomp_config_dir": "/etc/mesos/seccomp",
            "seccomp_profile_name": PROFILE}
    # the kernel was upgraded to 6.1 since the isolator was turned on: it must go
    after_upgrade = decide(flags=ours, cap=NEW_KERNEL)
    assert not after_upgrade.enable and after_upgrade.ours_in_use
    assert decide("off", flags=ours).ours_in_use
    assert not decide("off", flags={**ours, "seccomp_profile_name": "site.json"}).ours_in_use
    assert not decide("off", flags={**ours, "isolation": "posix/cpu"}).ours_in_use


@pytest.mark.skipif(not Path(CAP_LAST_CAP).exists(), reason="Linux only")
def test_the_kernels_last_capability_is_read_from_the_real_sysctl_file():
    # Host.read's default 4 MiB read is refused by a sysctl file (ENOMEM): the test VM's agent role
    # said "cap_last_cap could not be read" until this read was made small
    last = read_cap_last_cap(Host(None).read)
    assert last is not None and int(last) >= 30
