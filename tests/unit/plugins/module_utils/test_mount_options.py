from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount_options import (
    KINDS, MODES, Fstab, MountOptionError, fstab_entry, grub_with_rootflags, modes_of_state, rootflags_of,
    with_quota)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import QuotaState

FSTAB = """# /etc/fstab: hand-written
UUID=aaaa /               ext4    errors=remount-ro 0       1
/dev/vdb  /var/lib/mesos  xfs     defaults,noatime,uquota  0  0
# /dev/vdc /var/lib/mesos xfs defaults 0 0
"""

# xfs(5)'s quota options, written here apart from the module's table: the test's own reading of them
XFS_QUOTA_OPTIONS = {
    "quota": ("user", "enforced"), "usrquota": ("user", "enforced"), "uquota": ("user", "enforced"),
    "qnoenforce": ("user", "accounting"), "uqnoenforce": ("user", "accounting"),
    "grpquota": ("group", "enforced"), "gquota": ("group", "enforced"), "gqnoenforce": ("group", "accounting"),
    "prjquota": ("project", "enforced"), "pquota": ("project", "enforced"), "pqnoenforce": ("project", "accounting"),
}


def modes_of_options(options: list[str]) -> dict[str, str]:
    """The quota mode per kind that a list of mount options asks for, as the kernel reads them."""
    modes = dict.fromkeys(KINDS, "off")
    for option in options:
        if option in XFS_QUOTA_OPTIONS:
            kind, mode = XFS_QUOTA_OPTIONS[option]
            modes[kind] = mode
    return modes


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


# --- the entry mount(8) and systemd read ---------------------------------------------
@pytest.mark.parametrize("line, after", [
    ("/dev/vdb /srv xfs", "/dev/vdb /srv xfs prjquota"),  # options, fs_freq and fs_passno are optional
    ("/dev/vdb\t/srv\txfs  \r", "/dev/vdb\t/srv\txfs\tprjquota  \r"),  # trailing blanks and CR stay
    ("  /dev/vdb /srv xfs", "  /dev/vdb /srv xfs prjquota"),
    ("/dev/vdb /srv xfs noatime", "/dev/vdb /srv xfs noatime,prjquota"),
    ("/dev/vdb /srv xfs noatime 0", "/dev/vdb /srv xfs noatime,prjquota 0"),
    ("/dev/vdb /srv xfs noatime 0 2 # a note", "/dev/vdb /srv xfs noatime,prjquota 0 2 # a note"),
])
def test_every_valid_field_count_is_edited_in_place(line, after):
    fstab = Fstab(line + "\n")
    entry, others = fstab_entry(fstab, "/srv", "fstab")
    assert others == []
    fstab.set_options(entry, with_quota(entry.options, {"project": "enforced"}))
    assert fstab.text() == after + "\n"


@pytest.mark.parametrize("line", ["/dev/vdb /srv", "/dev/vdb /srv xfs defaults zero 0", "/dev/vdb /srv xfs defaults 0 x"])
def test_a_line_for_the_mount_point_that_libmount_skips_is_an_error_naming_it(line):
    with pytest.raises(MountOptionError, match=r"^fstab: line 2 of /etc/fstab \('" + re.escape(line) + r"'\) is for /srv "
                                               r"but is not a valid entry"):
        fstab_entry(Fstab("# head\n" + line + "\n"), "/srv", "/etc/fstab")


def test_the_first_entry_wins_as_for_mount_and_systemd():
    fstab = Fstab("/dev/a /srv xfs defaults 0 0\n/dev/b //srv/ xfs noatime 0 0\n/dev/c /srv xfs ro\n")
    entry, others = fstab_entry(fstab, "/srv", "fstab")
    assert entry.source == "/dev/a" and [o.line for o in others] == [2, 3]
    assert fstab.entry("/srv").source == "/dev/a"


def test_entries_that_mount_and_systemd_would_read_differently_are_an_error_naming_the_lines(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    real, link = str(tmp_path / "real"), str(tmp_path / "link")
    # systemd resolves /link to /real and keeps the first line; mount(8) prefers the line that names /real
    fstab = Fstab(f"/dev/a {link} xfs defaults 0 0\n/dev/b {real} xfs defaults 0 0\n")
    with pytest.raises(MountOptionError, match=r"^fstab: /etc/fstab has 2 entries for .*/real \(lines 1, 2\); "
                                               r"mount\(8\) would use line 2 .* systemd at boot line 1"):
        fstab_entry(fstab, real, "/etc/fstab")
    # in the other order both read the first line
    entry, others = fstab_entry(Fstab(f"/dev/b {real} xfs defaults 0 0\n/dev/a {link} xfs defaults 0 0\n"), real, "f")
    assert entry.source == "/dev/b" and [o.line for o in others] == [2]
    # a symlink alone is the entry for its target
    assert fstab_entry(Fstab(f"/dev/a {link} xfs defaults 0 0\n"), real, "f")[0].source == "/dev/a"


def test_short_lines_for_other_mount_points_and_comments_are_left_alone():
    text = "# /dev/x /srv xfs\n\n/dev/y\n/dev/z /other\n/dev/vdb /srv xfs\n"
    entry, _o = fstab_entry(Fstab(text), "/srv", "f")
    assert entry.line == 5 and entry.fields == 3
