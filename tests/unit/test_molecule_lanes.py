"""`make test` runs Molecule scenarios in three lanes at once (tests/lanes.sh). Molecule's prerun
installs the collection with `ansible-galaxy collection install --force` into ~/.ansible, one
place for every lane, and two such installs at once fail: one removes the files the other is
copying ("No such file or directory: ..."; two installs side by side fail nearly every time). So no scenario may run the prerun, and each must take the
collection from the working tree instead."""

from __future__ import annotations

import glob
import os

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))


def _load(path):
    with open(path, encoding="utf-8") as stream:
        return yaml.safe_load(stream) or {}


BASE = _load(os.path.join(REPO, ".config/molecule/config.yml"))
SCENARIOS = sorted(glob.glob(os.path.join(REPO, "molecule/*/molecule.yml")))


def test_there_are_scenarios_to_check():
    assert len(SCENARIOS) >= 3


def test_no_scenario_installs_the_collection_into_the_shared_cache():
    for path in SCENARIOS:
        scenario = _load(path)
        # Molecule's default (molecule/constants.py) is prerun: true; a scenario's own value wins.
        assert scenario.get("prerun", BASE.get("prerun", True)) is False, path


def test_every_scenario_takes_the_collection_from_the_working_tree():
    for path in SCENARIOS:
        env = dict(BASE.get("provisioner", {}).get("env", {}))
        env.update(_load(path).get("provisioner", {}).get("env", {}) or {})
        assert env.get("ANSIBLE_COLLECTIONS_PATH") == "${MOLECULE_PROJECT_DIRECTORY}/.build/collections", path
