from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import (
    SizeError, format_size, parse_count, parse_size, round_up)
from ansible_collections.mesos.xfs_quota.tests.unit.plugins import shared_vectors

VECTORS = shared_vectors.load("sizes.json")


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: repr(v["text"]))
def test_parse_size_follows_the_shared_vectors(vector):
    """tests/vectors/sizes.json is the rule (the hook's tests read it too); kinds must match."""
    shared_vectors.check(vector, VECTORS, lambda text: parse_size(text, "bhard"), SizeError, lambda v: v["bytes"], "bhard")


@pytest.mark.parametrize("text", ["0.1", "0.5", "0.001"])
def test_a_nonzero_size_never_becomes_no_limit(text):
    """A size that rounds to 0 bytes is refused: 0 means "no limit"."""
    with pytest.raises(SizeError, match=r"^bhard: '0\.[0-9]+' is less than one byte; write 0 for no limit"):
        parse_size(text, "bhard")


@pytest.mark.parametrize("text", ["0.5", "1.5", "1.0001k"])
def test_inode_counts_are_whole_numbers(text):
    with pytest.raises(SizeError, match=r"^ihard: .* whole number of inodes"):
        parse_count(text, "ihard")
    assert parse_count("1.5k", "ihard") == 1536 and parse_count("0", "ihard") == 0


@pytest.mark.parametrize("text, expected", [
    ("0", 0), ("512", 512), ("10k", 10240), ("10K", 10240), ("10m", 10 * 2**20),
    ("512MiB", 512 * 2**20), ("10g", 10 * 2**30), ("10GB", 10 * 2**30), ("1.5g", 3 * 2**29),
    ("2t", 2 * 2**40), (" 7 m ", 7 * 2**20), ("100b", 100),
])
def test_parse_size_accepts(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["10x", "", "-1", "1e3", "g", "1.2.3", "ten", "10 gigs", "0x10", "1e", "1eb",
                                 "\u0661\u0660m"])
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
        parse_size("8192p", "bhard")


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
