"""The shared test vectors of tests/vectors/ (also read by the hook's C++ tests): load, and check one."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

VECTORS_DIR = Path(__file__).parents[2] / "vectors"


def load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS_DIR / name).read_text(encoding="utf-8"))


def check(vector: dict[str, Any], table: dict[str, Any], parse: Callable[[str], Any], error: type,
          expected: Callable[[dict[str, Any]], Any], param: str) -> None:
    """``parse`` gives the vector's value, or raises ``error`` of its kind with a message naming ``param``."""
    if "error" not in vector:
        assert parse(vector["text"]) == expected(vector)
        return
    with pytest.raises(error) as caught:
        parse(vector["text"])
    assert caught.value.kind == vector["error"] and caught.value.kind in table["error_kinds"]
    assert str(caught.value).startswith(f"{param}: ")
