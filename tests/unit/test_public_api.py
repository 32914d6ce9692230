"""The public plugins are exactly those the users' README documents: each one is a promise to keep."""
from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _filter_names(source: pathlib.Path) -> set[str]:
    """The names a filter plugin file's FilterModule.filters() returns (its dict literal's keys)."""
    names = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef) and node.name == "filters":
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Dict):
                    names |= {key.value for key in ret.value.keys if isinstance(key, ast.Constant)}
    return names


def _documented(kind_prefix: str) -> set[str]:
    readme = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| ")]
    first_cells = [row.split("|")[1] for row in rows]
    names = set()
    for cell in first_cells:
        if cell.strip().startswith("filter ") == (kind_prefix == "filter"):
            names |= set(re.findall(r"`(?:mesos\.xfs_quota\.)?([a-z][a-z0-9_]*)`", cell))
    return names


def test_every_public_filter_is_documented_for_users_and_no_other():
    public = set()
    for source in (ROOT / "plugins" / "filter").glob("*.py"):
        public |= {name for name in _filter_names(source) if not name.startswith("_")}
    assert public == _documented("filter")


def test_every_module_is_documented_for_users():
    modules = {p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if not p.name.startswith("_")}
    assert modules <= _documented("module")
