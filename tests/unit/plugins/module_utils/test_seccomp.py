"""_seccomp: the complement of the denied ioctl commands and the profile transform.

The profiles are judged by a small evaluator with libseccomp's matching rules (every comparison of
a rule must hold; masked equality is ``(arg & mask) == value`` on 64 bits): for any command, the
matching rules of ``ioctl`` must all have one action, so the result does not depend on how
libseccomp orders them, and that action must deny exactly the denied commands, whatever the upper
32 bits hold.
"""
from __future__ import annotations

import copy
import json
import random

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _seccomp as s

DENIED = sorted(s.DENIED_IOCTLS.values())
# A base with the shape of Docker's default profile (not its content): an allow list with ioctl in
# its big unconditional entry, conditional entries, capability and architecture filters.
BASE = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
    "syscalls": [
        {"names": ["read", "ioctl", "write", "file_setattr"], "action": "SCMP_ACT_ALLOW", "args": [],
         "comment": "", "includes": {}, "excludes": {}},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}], "includes": {}, "excludes": {}},
        {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "args": None, "includes": {"minKernel": "4.8"}},
        {"names": ["ioctl", "bpf"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {"caps": ["CAP_SYS_ADMIN"]},
         "excludes": {}},
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "args": [], "includes": {},
         "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    ],
}


def matches(arg: dict, value: int) -> bool:
    op = arg["op"]
    if op == "SCMP_CMP_MASKED_EQ":
        return value & arg["value"] == arg["valueTwo"]
    return {"SCMP_CMP_EQ": value == arg["value"], "SCMP_CMP_NE": value != arg["value"]}[op]


def actions(profile: dict, name: str, command: int, caps: set[str] = frozenset()) -> set[str]:
    """The actions of every rule that matches ``name`` with argument 1 = ``command``."""
    found = set()
    for rule in profile["syscalls"]:
        if name not in s._names(rule) or not set((rule.get("includes") or {}).get("caps", [])) <= caps:
            continue
        if all(matches(arg, command) for arg in rule.get("args") or [] if arg["index"] == 1):
            found.add(rule["action"])
    return found


def outcome(profile: dict, name: str, command: int = 0, caps: set[str] = frozenset()) -> str:
    found = actions(profile, name, command, caps)
    assert len(found) <= 1, f"{name} {command:#x}: rules with different actions match: {found}"
    return found.pop() if found else profile["defaultAction"]


def commands(rng: random.Random) -> list[int]:
    """Denied commands with any upper half, their one-bit neighbours, ordinary ones, random ones."""
    found = [0x5401, 0x541B, 0x5820, 0xC0185879]  # TCGETS, FIONREAD, 'X' 32 without size, FS_IOC_FSGETXATTR-like
    for number in DENIED:
        found += [number, number | 0xFFFFFFFF00000000, number | 1 << 32]
        found += [number ^ 1 << bit for bit in range(32)]
    found += [rng.getrandbits(64) for _draw in range(3000)]
    return found


@pytest.mark.parametrize("bits", [1, 3, 8])
def test_the_complement_matches_exactly_the_other_numbers_once(bits):
    rng = random.Random(bits)
    for _draw in range(40):
        values = set(rng.sample(range(1 << bits), rng.randint(0, min(5, 1 << bits))))
        patterns = s.complement(values, bits)
        for number in range(1 << bits):
            hits = [p for p in patterns if number & p[0] == p[1]]
            assert len(hits) == (0 if number in values else 1), (values, number, hits)


def test_the_complement_of_the_denied_commands():
    patterns = s.complement(DENIED)
    assert len(patterns) == 69  # one per branch leaving the three commands' 32-bit trie
    assert all(mask <= s.COMMAND_MASK and value & ~mask == 0 for mask, value in patterns)
    for number in commands(random.Random(1)):
        hits = sum(number & mask == value for mask, value in patterns)
        assert hits == (0 if number & s.COMMAND_MASK in DENIED else 1), hex(number)


def test_a_number_wider_than_the_command_is_refused():
    with pytest.raises(ValueError, match="32 bits"):
        s.complement([1 << 32])


def test_the_allow_list_denies_exactly_the_denied_commands_in_any_rule_order():
    profile = s.restrict(BASE).profile
    for caps in (set(), {"CAP_SYS_ADMIN"}):
        for number in commands(random.Random(2)):
            expected = "SCMP_ACT_ERRNO" if number & s.COMMAND_MASK in DENIED else "SCMP_ACT_ALLOW"
            assert outcome(profile, "ioctl", number, caps) == expected, hex(number)
    assert outcome(profile, "read") == "SCMP_ACT_ALLOW" and outcome(profile, "file_setattr") == "SCMP_ACT_ERRNO"


def test_the_allow_list_keeps_everything_else_and_says_why_it_adds_rules():
    profile = s.restrict(BASE).profile
    rules = profile["syscalls"]
    assert rules[0]["names"] == ["read", "write"] and rules[1:3] == BASE["syscalls"][1:3]
    assert rules[3]["names"] == ["bpf"] and rules[4] == BASE["syscalls"][4]
    ioctl = [r for r in rules if r["names"] == ["ioctl"]]
    assert len(ioctl) == 2 * 69 + 3  # the complement once per rule that allowed ioctl, then the denials
    assert sum(r["includes"] == {"caps": ["CAP_SYS_ADMIN"]} for r in ioctl) == 69
    denials = [r for r in ioctl if r["action"] == "SCMP_ACT_ERRNO"]
    assert [(r["args"][0]["value"], r["args"][0]["valueTwo"]) for r in denials] == [
        (0xFFFFFFFF, 0x401C5820), (0xFFFFFFFF, 0x40086602), (0xFFFFFFFF, 0x40046602)]
    assert all(r["args"][0]["op"] == "SCMP_CMP_MASKED_EQ" and r["args"][0]["index"] == 1 for r in ioctl)
    assert all(r["comment"].startswith("mesos.xfs_quota: ") for r in ioctl)
    assert not any("file_setattr" in r["names"] for r in rules)  # the default action denies it
    assert {k: v for k, v in profile.items() if k != "syscalls"} == {k: v for k, v in BASE.items() if k != "syscalls"}


def test_the_transform_is_pure_and_deterministic():
    before = copy.deepcopy(BASE)
    first = s.render_profile(s.restrict(BASE).profile)
    assert BASE == before and s.render_profile(s.restrict(copy.deepcopy(BASE)).profile) == first
    assert first.endswith("}\n") and json.loads(first)["defaultAction"] == "SCMP_ACT_ERRNO"


def test_the_older_single_name_form():
    base = {"defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [{"name": "ioctl", "action": "SCMP_ACT_ALLOW"}, {"name": "read", "action": "SCMP_ACT_ALLOW"}]}
    profile = s.restrict(base).profile
    assert profile["syscalls"][0] == {"name": "read", "action": "SCMP_ACT_ALLOW"}
    assert outcome(profile, "ioctl", 0x5401) == "SCMP_ACT_ALLOW"
    assert outcome(profile, "ioctl", 0xFFFFFFFF40086602) == "SCMP_ACT_ERRNO"


def test_allow_all_for_docker_names_file_setattr():
    restricted = s.restrict(s.ALLOW_ALL, "docker")
    profile = restricted.profile
    assert restricted.not_denied == () and outcome(profile, "file_setattr") == "SCMP_ACT_ERRNO"
    assert [r["names"] for r in profile["syscalls"]] == [["ioctl"]] * 3 + [["file_setattr"]]
    for number in commands(random.Random(3)):
        expected = "SCMP_ACT_ERRNO" if number & s.COMMAND_MASK in DENIED else "SCMP_ACT_ALLOW"
        assert outcome(profile, "ioctl", number) == expected, hex(number)


def test_allow_all_for_mesos_cannot_name_file_setattr_and_has_every_key_mesos_requires():
    restricted = s.restrict(s.ALLOW_ALL, "mesos")
    assert restricted.not_denied == ("file_setattr",)
    rules = restricted.profile["syscalls"]
    assert [r["names"] for r in rules] == [["ioctl"]] * 3
    assert restricted.profile["archMap"][0] == {"architecture": "SCMP_ARCH_X86_64",
                                                "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}
    for rule in s.restrict(BASE, "mesos").profile["syscalls"]:
        assert {"names", "action", "args", "includes", "excludes"} <= rule.keys(), rule
        assert all("valueTwo" in arg for arg in rule["args"] or []), rule


def test_a_denying_base_needs_no_name_for_file_setattr_in_mesos_either():
    assert s.restrict(BASE, "mesos").not_denied == ()


def test_a_base_that_allows_ioctl_by_its_arguments_is_refused():
    base = copy.deepcopy(BASE)
    base["syscalls"].append({"names": ["ioctl"], "action": "SCMP_ACT_ERRNO",
                             "args": [{"index": 1, "value": 0x5412, "op": "SCMP_CMP_EQ"}]})
    with pytest.raises(s.SeccompProfileError, match=r"base profile: syscalls\[5\] matches ioctl by its arguments"):
        s.restrict(base)


@pytest.mark.parametrize("text, message", [
    ("{", "not JSON"),
    ("[]", "is not a seccomp profile"),
    ('{"defaultAction": "ALLOW"}', "defaultAction 'ALLOW' is not a seccomp action"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}}', "syscalls is not a list"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [1]}', r"syscalls\[0\] is not an object"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]}',
     r"syscalls\[0\]: names is not a list"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "allow"}]}',
     r"syscalls\[0\]: action 'allow'"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": 1}]}',
     r"syscalls\[0\]: args is not a list"),
])
def test_a_bad_base_is_named_with_what_is_wrong(text, message):
    with pytest.raises(s.SeccompProfileError, match=f"^base_path \\(/b.json\\).*{message}"):
        s.parse_profile(text, "base_path (/b.json)")


def test_an_unknown_runtime_is_refused():
    with pytest.raises(s.SeccompProfileError, match="runtime must be one of docker, mesos"):
        s.restrict(BASE, "podman")


def test_the_summary_names_the_numbers():
    assert s.summary() == {"ioctls": {"FS_IOC_FSSETXATTR": "0x401c5820", "FS_IOC_SETFLAGS": "0x40086602",
                                      "FS_IOC32_SETFLAGS": "0x40046602"},
                           "syscalls": ["file_setattr"], "command_mask": "0xffffffff"}
