from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount_options import (
    KINDS, MODES, Fstab, MountOptionError, grub_with_rootflags, modes_of_options, modes_of_state, rootflags_of,
    with_quota)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import QuotaState

FSTAB = """# /etc/fstab: hand-written
UUID=aaaa /               ext4    errors=remount-ro 0       1
/dev/vdb  /var/lib/mesos  xfs     defaults,noatime,uquota  0  0
# /dev/vdc /var/lib/mesos xfs defaults 0 0
"""

OTHER_OPTIONS = st.lists(st.sampled_from(["noatime", "inode64", "logbufs=8", "nodev", "defaults"]), max_size=4)
WANTED = st.dictionaries(st.sampled_from(KINDS), st.sampled_from(MODES))


@given(OTHER_OPTIONS, WANTED, WANTED)
def test_with_quota_sets_exactly_the_wanted_modes_and_keeps_other_options(others, first, wanted):
    options = with_quota(with_quota(others, first), wanted)
    modes = modes_of_options(options)
    for kind in KINDS:
        expected = wanted.get(kind, first.get(kind, "off"))
        assert modes[kind] == expected
    assert [o for o in options if o in others] == [o for o in others if o in options]
    assert set(others) <= set(options)
    assert with_quota(options, wanted) == options  # idempotent


def test_with_quota_replaces_aliases_and_noquota():
    assert with_quota(["pquota", "noquota", "noatime"], {"project": "accounting"}) == ["noatime", "pqnoenforce"]
    assert with_quota(["prjquota"], {"project": "off"}) == ["defaults"]
    assert with_quota(["uquota", "prjquota"], {"project": "enforced"}) == ["uquota", "prjquota"]


def test_modes_of_state():
    state = QuotaState(project_accounting=True, project_enforcement=True, user_accounting=True)
    assert modes_of_state(state) == {"user": "accounting", "group": "off", "project": "enforced"}


def test_fstab_edits_one_entry_in_place_and_keeps_the_rest():
    fstab = Fstab(FSTAB)
    entry = fstab.entry("/var/lib/mesos/")
    assert entry.source == "/dev/vdb" and entry.options == ["defaults", "noatime", "uquota"]
    fstab.set_options(entry, with_quota(entry.options, {"project": "enforced"}))
    lines = fstab.text().splitlines()
    assert lines[2] == "/dev/vdb  /var/lib/mesos  xfs     defaults,noatime,uquota,prjquota  0  0"
    assert [lines[i] for i in (0, 1, 3)] == [FSTAB.splitlines()[i] for i in (0, 1, 3)]


def test_fstab_add_escapes_spaces_and_finds_it_again():
    fstab = Fstab("")
    fstab.add("/dev/vdb", "/mnt/with space", ["prjquota"])
    assert fstab.text() == "/dev/vdb /mnt/with\\040space xfs prjquota 0 0\n"
    assert fstab.entry("/mnt/with space").options == ["prjquota"]


def test_grub_rootflags_added_merged_and_idempotent():
    text = '# keep me\nGRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="console=ttyS0 rootflags=noatime"\n'
    new = grub_with_rootflags(text, {"project": "enforced"})
    assert new == '# keep me\nGRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="console=ttyS0 rootflags=noatime,prjquota"\n'
    assert grub_with_rootflags(new, {"project": "enforced"}) == new
    assert grub_with_rootflags(new, {"project": "off"}) == (
        '# keep me\nGRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="console=ttyS0 rootflags=noatime"\n')


def test_grub_without_cmdline_gets_one_and_empty_flags_drop_rootflags():
    assert grub_with_rootflags("GRUB_TIMEOUT=5\n", {"project": "enforced"}) == (
        'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="rootflags=prjquota"\n')
    assert grub_with_rootflags('GRUB_CMDLINE_LINUX="rootflags=pquota quiet"\n', {"project": "off"}) == (
        'GRUB_CMDLINE_LINUX="quiet"\n')


def test_grub_last_assignment_wins_and_unparsable_value_names_the_parameter():
    text = 'GRUB_CMDLINE_LINUX="a"\nGRUB_CMDLINE_LINUX="b"\n'
    assert grub_with_rootflags(text, {"project": "enforced"}).splitlines() == [
        'GRUB_CMDLINE_LINUX="a"', 'GRUB_CMDLINE_LINUX="b rootflags=prjquota"']
    with pytest.raises(MountOptionError, match="^grub_defaults: "):
        grub_with_rootflags('GRUB_CMDLINE_LINUX="unterminated\n', {"project": "enforced"})


FOREIGN = ("# caf\udce9 in Latin-1\r\n"  # a byte that is not UTF-8, as surrogateescape carries it, and CRLF
           "UUID=aaaa / ext4 defaults 0 1 # form\ffeed\vtab\u2028sep\u0085nel\r\n"
           "/dev/vdb\t/var/lib/mesos xfs defaults 0 0\r\n"
           "# no final newline")


def test_fstab_keeps_every_byte_of_lines_it_does_not_own():
    fstab = Fstab(FOREIGN)
    assert fstab.text() == FOREIGN  # a round trip changes nothing
    entry = fstab.entry("/var/lib/mesos")
    assert entry.options == ["defaults"]
    fstab.set_options(entry, with_quota(entry.options, {"project": "enforced"}))
    assert fstab.text() == FOREIGN.replace("xfs defaults 0 0\r\n", "xfs defaults,prjquota 0 0\r\n")
    assert fstab.text().encode("utf-8", "surrogateescape").startswith(b"# caf\xe9 in Latin-1\r\n")
    fstab.add("/dev/vdc", "/srv", ["prjquota"])
    assert fstab.text() == FOREIGN.replace("xfs defaults 0 0", "xfs defaults,prjquota 0 0") + (
        "\n/dev/vdc /srv xfs prjquota 0 0\n")


def test_fstab_fields_are_split_at_blanks_only():
    # \f or U+2028 inside a field is no separator: this line's mount point is not "/mnt"
    assert Fstab("/dev/vdb /mnt\u2028x xfs defaults 0 0\n").entry("/mnt") is None
    assert Fstab("/dev/vdb /mnt\fx xfs defaults 0 0\n").entry("/mnt") is None


def test_grub_defaults_keep_foreign_bytes_and_line_endings():
    text = '# caf\udce9\r\nGRUB_TIMEOUT=5\f\u2028\nGRUB_CMDLINE_LINUX="quiet"\n'
    assert grub_with_rootflags(text, {"project": "enforced"}) == text.replace('"quiet"', '"quiet rootflags=prjquota"')
    assert rootflags_of(grub_with_rootflags(text, {"project": "enforced"})) == "prjquota"
    assert rootflags_of(text) is None
