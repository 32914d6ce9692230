from __future__ import annotations

import os
import re
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import atomic_write
from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import (
    ProjectFileError, ProjectFiles, _entry, validate_id, validate_name)

FOREIGN = "# managed by hand\nlegacy:17\n\nbroken line without colon\n"


@pytest.fixture
def files(tmp_path):
    projid, projects = tmp_path / "projid", tmp_path / "projects"
    projid.write_text(FOREIGN)
    projects.write_text("# trees\n17:/srv/legacy\n")
    return projid, projects


def test_define_keeps_foreign_lines_and_writes_atomically(files):
    projid, projects = files
    os.chmod(projid, 0o640)
    pf = ProjectFiles(str(projid), str(projects))
    pf.define("sandbox", 7001)
    pf.set_paths(7001, ["/var/lib/mesos/a", "/var/lib/mesos/b"])
    assert pf.changed()
    pf.write()
    assert projid.read_text() == FOREIGN + "sandbox:7001\n"
    assert projects.read_text() == "# trees\n17:/srv/legacy\n7001:/var/lib/mesos/a\n7001:/var/lib/mesos/b\n"
    assert stat.S_IMODE(os.stat(projid).st_mode) == 0o640
    again = ProjectFiles(str(projid), str(projects))
    again.define("sandbox", 7001)
    again.set_paths(7001, ["/var/lib/mesos/a", "/var/lib/mesos/b"])
    assert not again.changed()


def test_set_paths_is_exact_and_undefine_removes_everything(files):
    projid, projects = files
    pf = ProjectFiles(str(projid), str(projects))
    pf.define("sandbox", 7001)
    pf.set_paths(7001, ["/a", "/b"])
    pf.set_paths(7001, ["/b", "/c"])
    assert pf.paths_of(7001) == ["/b", "/c"]
    pf.undefine("sandbox", 7001)
    assert pf.id_of("sandbox") is None and pf.paths_of(7001) == []
    assert pf.paths_of(17) == ["/srv/legacy"]


def test_name_and_id_clashes_are_refused(files):
    pf = ProjectFiles(*map(str, files))
    with pytest.raises(ProjectFileError, match=r"^name: project 'legacy' already has id 17"):
        pf.define("legacy", 18)
    with pytest.raises(ProjectFileError, match=r"^id: 17 already belongs to project 'legacy'"):
        pf.define("other", 17)
    assert not pf.changed()


def test_missing_files_read_as_empty(tmp_path):
    pf = ProjectFiles(str(tmp_path / "no-projid"), str(tmp_path / "no-projects"))
    assert pf.names() == {} and not pf.changed()
    pf.define("a", 1)
    pf.write()
    assert (tmp_path / "no-projid").read_text() == "a:1\n"
    assert stat.S_IMODE(os.stat(tmp_path / "no-projid").st_mode) == 0o644


def test_diff_names_both_files(files):
    pf = ProjectFiles(*map(str, files))
    pf.define("x", 9)
    before, after = pf.diff()[0]["before"], pf.diff()[0]["after"]
    assert "x:9" not in before and after.endswith("x:9\n")


@pytest.mark.parametrize("bad", [0, -1, 2**32 - 1, 2**40])
def test_validate_id_range(bad):
    with pytest.raises(ProjectFileError, match=r"^id: .* out of range"):
        validate_id(bad)


@pytest.mark.parametrize("bad", ["", "123", "a:b", "a b", "-x", "x" * 65])
def test_validate_name(bad):
    with pytest.raises(ProjectFileError, match=r"^name: "):
        validate_name(bad)


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "f"
    atomic_write(str(target), "one\n")
    atomic_write(str(target), "two\n")
    assert target.read_text() == "two\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


lines = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=30)


@given(st.lists(lines, max_size=8))
def test_foreign_lines_survive_any_edit(tmp_path_factory, foreign):
    d = tmp_path_factory.mktemp("pf")
    (d / "projid").write_text("".join(f"{line}\n" for line in foreign))
    (d / "projects").write_text("")
    pf = ProjectFiles(str(d / "projid"), str(d / "projects"))
    if pf.id_of("mxqtest") is None and pf.name_of(4000000000) is None:
        pf.define("mxqtest", 4000000000)
        pf.write()
        assert (d / "projid").read_text().splitlines() == foreign + ["mxqtest:4000000000"]


def test_lookups_follow_edits(files):
    pf = ProjectFiles(*map(str, files))
    assert pf.name_of(17) == "legacy" and pf.id_of("fresh") is None
    pf.define("fresh", 18)
    assert pf.id_of("fresh") == 18 and pf.name_of(18) == "fresh"
    pf.undefine("legacy", 17)
    assert pf.id_of("legacy") is None and pf.name_of(17) is None


# The line format as a regular expression (how the parser was first written): optional blanks,
# a key that starts with neither '#' nor ':', blanks, ':', blanks, the value, trailing blanks.
LINE_FORMAT = re.compile(r"^\s*([^#:\s][^:]*?)\s*:\s*(.*?)\s*$")


@given(st.text(alphabet="ab7 :#\t\u00a0\u00e9", max_size=24))
def test_line_parsing_follows_the_line_format(line):
    match = LINE_FORMAT.match(line)
    assert _entry(line) == (match.groups() if match else None)


def test_ids_that_are_digits_but_not_decimal_are_foreign_lines(tmp_path):
    projid, projects = tmp_path / "projid", tmp_path / "projects"
    projid.write_text("squared:\u00b2\nlegacy:17\n")  # '²'.isdigit() but int('²') fails
    projects.write_text("\u00b2:/srv/odd\n")
    pf = ProjectFiles(str(projid), str(projects))
    assert pf.names() == {"legacy": 17}
    assert pf.paths_of(17) == []
    pf.undefine("legacy", 17)
    pf.set_paths(5, ["/srv/five"])
    assert pf.rendered() == ("squared:\u00b2\n", "\u00b2:/srv/odd\n5:/srv/five\n")
