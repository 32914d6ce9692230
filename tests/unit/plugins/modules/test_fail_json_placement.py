"""ansible-core 2.19 attaches the exception being handled to a fail_json called inside an ``except``
block ("An exception occurred during task execution"): modules call it after the block instead."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

MODULES = Path(__file__).resolve().parents[4] / "plugins" / "modules"
CHECKED = ["xfs_mount.py", "docker_daemon_config.py"]


def fail_json_calls_in_handlers(source: str) -> list[int]:
    """Line numbers of ``*.fail_json(...)`` calls lexically inside an ``except`` handler."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ExceptHandler):
            found += [call.lineno for call in ast.walk(node) if isinstance(call, ast.Call)
                      and isinstance(call.func, ast.Attribute) and call.func.attr == "fail_json"]
    return found


def test_the_checker_sees_a_call_in_a_handler():
    assert fail_json_calls_in_handlers("try:\n    x()\nexcept E:\n    m.fail_json(msg='x')\n") == [4]
    assert fail_json_calls_in_handlers("try:\n    x()\nexcept E as e:\n    err = e\nm.fail_json(msg=str(err))\n") == []


@pytest.mark.parametrize("name", CHECKED)
def test_no_fail_json_inside_an_except_block(name):
    assert fail_json_calls_in_handlers((MODULES / name).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("name", CHECKED)
def test_the_module_runs_main_when_ansible_runs_it(name):
    tree = ast.parse((MODULES / name).read_text(encoding="utf-8"))
    guards = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'"]
    assert guards and ast.unparse(guards[-1].body[0]) == "main()"
