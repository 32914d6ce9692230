from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import (
    SizeError, format_size, parse_size, round_up)


@pytest.mark.parametrize("text, expected", [
    ("0", 0), ("512", 512), ("10k", 10240), ("10K", 10240), ("10m", 10 * 2**20),
    ("512MiB", 512 * 2**20), ("10g", 10 * 2**30), ("10GB", 10 * 2**30), ("1.5g", 3 * 2**29),
    ("2t", 2 * 2**40), (" 7 m ", 7 * 2**20), ("100b", 100),
])
def test_parse_size_accepts(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["10x", "", "-1", "1e3", "g", "1.2.3", "ten", "10 gigs", "0x10"])
def test_parse_size_rejects_and_names_the_parameter(bad):
    with pytest.raises(SizeError, match=r"^bhard: .*e\.g\. 512m"):
        parse_size(bad, "bhard")


def test_parse_size_rejects_negative_int_and_bool():
    with pytest.raises(SizeError, match="negative"):
        parse_size(-5, "bsoft")
    with pytest.raises(SizeError):
        parse_size(True, "bsoft")


def test_parse_size_rejects_what_xfs_cannot_store():
    with pytest.raises(SizeError, match="larger"):
        parse_size("9e", "bhard")


@given(st.integers(min_value=0, max_value=2**30), st.sampled_from(["", "k", "m", "g", "K", "M", "G"]))
def test_parse_size_scales_binary(number, unit):
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[unit.lower()]
    assert parse_size(f"{number}{unit}") == number * scale


@given(st.integers(min_value=0, max_value=2**50), st.sampled_from([512, 4096]))
def test_round_up_is_the_smallest_multiple_not_below(size, unit):
    rounded = round_up(size, unit)
    assert rounded % unit == 0 and size <= rounded < size + unit


@pytest.mark.parametrize("size, text", [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"),
                                        (10 * 2**20, "10 MiB"), (2**40, "1 TiB")])
def test_format_size(size, text):
    assert format_size(size) == text
