from __future__ import annotations

from ansible_collections.mesos.xfs_quota.plugins.filter.projid import projid_names
from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import ProjectFiles


def test_the_role_reads_projid_as_the_modules_do(tmp_path):
    """The role's filter reads projid as the modules do: of two lines with one name, the first counts."""
    text = "# comment\nweb:7001\nweb:7002\n legacy : 17 \r\nsquared:\u00b2\nbroken\n:5\nlast:9"
    (tmp_path / "projid").write_text(text)
    assert projid_names(text) == ProjectFiles(str(tmp_path / "projid"), str(tmp_path / "projects")).names()
    assert projid_names(text) == {"web": 7001, "legacy": 17, "last": 9}
