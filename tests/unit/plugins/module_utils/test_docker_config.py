"""The daemon.json merge rule: other keys and options kept, sizes compared by value, bad files refused."""
from __future__ import annotations

import json

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._docker_config import (
    DockerConfigError,
    decode_config,
    docker_size,
    dockerd_from_version_output,
    encode_config,
    merge_config,
    merge_storage_opts,
    parse_config,
    render_config,
    render_for,
    settings_from,
)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import printable

PATH = "/etc/docker/daemon.json"


@pytest.mark.parametrize("size, text", [
    (10 * 1024**3, "10G"), (512 * 1024**2, "512M"), (1536 * 1024**2, "1536M"), (1024, "1K"),
    (1000, "1000"), (3 * 1024**4, "3T"), (2 * 1024**5, "2P"),
])
def test_docker_size_is_exact_in_the_largest_unit(size, text):
    assert docker_size(size) == text


def test_other_keys_keep_their_values_and_order():
    before = parse_config('{"log-driver": "journald", "labels": ["a=b"], "storage-opts": ["overlay2.x=1"]}', PATH)
    result = merge_config(before, {"data-root": "/srv/docker"}, {"overlay2.size": "10g"}, PATH)
    assert result.changed
    assert list(result.after) == ["log-driver", "labels", "storage-opts", "data-root"]
    assert result.after["storage-opts"] == ["overlay2.x=1", "overlay2.size=10G"]
    assert result.after["labels"] == ["a=b"]


@pytest.mark.parametrize("existing", ["overlay2.size=10G", "overlay2.size=10GiB", "overlay2.size=10240m", "overlay2.size=10737418240"])
def test_an_equal_size_in_another_spelling_is_no_change(existing):
    assert merge_storage_opts([existing], {"overlay2.size": "10g"}, PATH) == [existing]


def test_a_different_size_is_replaced_in_place_and_duplicates_collapse():
    opts = ["a=1", "overlay2.size=5G", "b=2", "overlay2.size=7G"]
    assert merge_storage_opts(opts, {"overlay2.size": "20m"}, PATH) == ["a=1", "overlay2.size=20M", "b=2"]


@pytest.mark.parametrize("value", [None, "0", 0])
def test_none_or_a_zero_size_removes_the_option(value):
    assert merge_storage_opts(["overlay2.size=5G", "a=1"], {"overlay2.size": value}, PATH) == ["a=1"]
    result = merge_config({"storage-opts": ["overlay2.size=5G"], "k": 1}, {}, {"overlay2.size": value}, PATH)
    assert result.after == {"k": 1}


def test_a_setting_of_none_removes_the_key_and_an_equal_value_is_no_change():
    assert merge_config({"a": 1, "b": 2}, {"a": None}, {}, PATH).after == {"b": 2}
    assert not merge_config({"a": [1, {"x": True}]}, {"a": [1, {"x": True}]}, {}, PATH).changed


def test_empty_text_is_an_empty_configuration():
    assert parse_config("", PATH) == {} and parse_config(" \n", PATH) == {}


@pytest.mark.parametrize("text, words", [
    ('{"a": 1,}', "is not valid JSON (line 1"),
    ('{"a": 1, "a": 2}', "the key 'a' appears twice"),
    ('["a"]', "holds a JSON list, not an object"),
])
def test_a_bad_file_is_an_error_that_names_it(text, words):
    with pytest.raises(DockerConfigError) as exc:
        parse_config(text, PATH)
    assert words in str(exc.value) and PATH in str(exc.value) and "left unchanged" in str(exc.value)


@pytest.mark.parametrize("opts", ["overlay2.size=1G", [1], ["no-equals-sign"]])
def test_storage_opts_that_are_not_name_value_strings_are_refused(opts):
    with pytest.raises(DockerConfigError, match="storage-opts"):
        merge_storage_opts(opts, {"overlay2.size": "1g"}, PATH)


@pytest.mark.parametrize("opts, words", [
    ({"overlay2.size": "ten gigs"}, "storage_opts[overlay2.size]"),
    ({"overlay2.size": "-1"}, "storage_opts[overlay2.size]"),
    ({"overlay2.x": True}, "storage_opts[overlay2.x]: expected a string"),
])
def test_bad_wanted_options_name_the_parameter(opts, words):
    with pytest.raises(DockerConfigError) as exc:
        merge_storage_opts([], opts, PATH)
    assert str(exc.value).startswith(words)


def test_storage_opts_are_not_a_setting():
    with pytest.raises(DockerConfigError, match="give storage-opts as storage_opts"):
        merge_config({}, {"storage-opts": []}, {}, PATH)


def test_render_round_trips():
    config = {"data-root": "/d", "storage-opts": ["overlay2.size=1G"], "n": {"ü": 1}}
    text = render_config(config)
    assert text.endswith("}\n") and json.loads(text) == config and "ü" in text


@pytest.mark.parametrize("output, version, text", [
    ("Docker version 20.10.24+dfsg1, build 297e128\n", (20, 10), "dockerd 20.10.24+dfsg1"),
    ("Docker version 24.0.7, build afdd53b", (24, 0), "dockerd 24.0.7"),
    ("Docker version v23.0.0-rc.1, build x", (23, 0), "dockerd v23.0.0-rc.1"),
    ("garbage", None, "the version of dockerd cannot be read from 'garbage'"),
    (None, None, "no dockerd was found to tell its version"),
])
def test_the_dockerd_version_from_its_output(output, version, text):
    daemon = dockerd_from_version_output(output)
    assert (daemon.version, daemon.text) == (version, text)
    assert daemon.decodes_boms == (version is not None and version >= (23, 0))
    assert daemon.keeps_bad_bytes == (version is not None and version < (23, 0))


def test_decoding_asks_for_dockerd_only_when_the_bytes_need_it():
    def never():
        raise AssertionError("dockerd asked for plain UTF-8")
    assert decode_config('{"a": "é"}'.encode(), PATH, never).text == '{"a": "é"}'
    assert decode_config(b"", PATH, never).text == ""


def test_a_round_trip_keeps_foreign_bytes_and_escapes_and_the_result_shows_them():
    old = dockerd_from_version_output("Docker version 20.10.24, build x")
    decoded = decode_config(b'{"a": "caf\xe9", "b": "\\ud800"}', PATH, lambda: old)
    config = parse_config(decoded.text, PATH)
    assert encode_config(render_for(config, decoded), decoded) == b'{\n  "a": "caf\xe9",\n  "b": "\\ud800"\n}\n'
    assert printable(config, decoded.raw_bytes) == {"a": "caf\\xe9", "b": "\\ud800"}
    json.dumps(printable(config, decoded.raw_bytes)).encode("utf-8")  # what Ansible does with a result


def test_settings_text_is_typed_as_json_and_dicts_are_kept():
    assert settings_from("debug=true n=3 f=1.5 s=warn z=null l='[1]' q='\"3\"'") == {
        "debug": True, "n": 3, "f": 1.5, "s": "warn", "z": None, "l": [1], "q": "3"}
    assert settings_from({"debug": "true"}) == {"debug": "true"}
    assert settings_from(None) == {} and settings_from('{"a": {"b": false}}') == {"a": {"b": False}}
    with pytest.raises(DockerConfigError, match=r"^settings\[x\]: NaN is not a finite number"):
        settings_from("x=NaN")
