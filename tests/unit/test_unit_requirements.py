"""`ansible-test units` installs tests/unit/requirements.txt into its own environment and nothing
else a test imports, so each third-party module the unit tests import is listed there (the file was
missing, and `ansible-test units` failed on `import hypothesis`)."""

from __future__ import annotations

import ast
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Provided without the file: the standard library, ansible-core and what it requires, the collection, pytest.
PROVIDED = set(sys.stdlib_module_names) | {"ansible", "ansible_collections", "yaml", "jinja2", "pytest", "_pytest"}
# import name -> distribution name where they differ
DISTRIBUTIONS = {"yaml": "PyYAML"}


def imported_modules():
    found = set()
    for path in glob.glob(os.path.join(HERE, "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as stream:
            tree = ast.parse(stream.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_every_third_party_import_is_in_requirements_txt():
    path = os.path.join(HERE, "requirements.txt")
    assert os.path.exists(path), "tests/unit/requirements.txt is missing: ansible-test units cannot import the tests"
    with open(path, encoding="utf-8") as stream:
        listed = {re.split(r"[<>=!~;\s\[]", line.strip(), maxsplit=1)[0].lower()
                  for line in stream if line.strip() and not line.startswith("#")}
    needed = {DISTRIBUTIONS.get(name, name).lower() for name in imported_modules() - PROVIDED}
    assert needed, "the scan found no third-party import at all (hypothesis is one)"
    assert needed <= listed, f"missing from tests/unit/requirements.txt: {sorted(needed - listed)}"
