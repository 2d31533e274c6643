"""The cassettes committed in cassettes/ are current, and replaying them passes offline.

A fresh recording against the embedded reference servers (the same seed and number of
examples as the committed manifest) must send exactly the requests the committed
cassettes hold, test by test and in order; if it does not, the cassettes are stale:
re-record them with `msgconform run --record` (see README). Then the committed cassettes
are replayed with no server running, and must give the outcomes of the fresh live run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from msgconform import cassettes
from msgconform.plugin.recording import _before_record_request, _key  # the matcher's own view of a request
from tests.helpers import REPO, run_msgconform

pytestmark = pytest.mark.integration
COMMITTED = REPO / "cassettes"


class _Request:
    """What vcrpy's matcher sees of a recorded request, rebuilt from the YAML."""

    def __init__(self, raw: dict) -> None:
        self.method, self.uri, self.headers = raw["method"], raw["uri"], raw["headers"]
        self.body = raw["body"]


def request_keys(folder: Path) -> dict[str, list[tuple]]:
    keys = {}
    for path in sorted(folder.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        keys[str(path.relative_to(folder))] = [_key(_before_record_request(_Request(i["request"])))
                                               for i in data["interactions"]]
    return keys


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    manifest = cassettes.read_manifest(COMMITTED)
    root = tmp_path_factory.mktemp("fresh")
    done = run_msgconform("run", "--record", "--cassette-dir", root / "cassettes", "--report-dir", root / "reports",
                          "--max-examples", manifest["max_examples"], timeout=600)
    assert done.status == 0, done
    return root


def test_committed_cassettes_cover_every_api_with_a_server():
    from msgconform.runner import embedded_apis

    manifest = cassettes.read_manifest(COMMITTED)
    assert sorted(manifest["apis"]) == sorted(embedded_apis())


def test_committed_cassettes_are_not_stale(fresh):
    committed, recorded = request_keys(COMMITTED), request_keys(fresh / "cassettes")
    assert sorted(committed) == sorted(recorded), "tests were added or removed: re-record the cassettes"
    stale = [name for name in committed if committed[name] != recorded[name]]
    assert not stale, f"a fresh recording sends other requests in {stale}: re-record the cassettes (see README)"


def test_committed_generated_cases_are_current(fresh):
    """The cases each fuzz test and state machine generated, kept beside its cassette for replay, are the ones a
    fresh recording generates, byte for byte (no time, port or id in them)."""
    def kept(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob(f"*{cassettes.CASES_SUFFIX}"))}

    committed, recorded = kept(COMMITTED), kept(fresh / "cassettes")
    assert len(committed) == 5 and sorted(committed) == sorted(recorded)  # 4 fuzz tests, 1 state machine
    stale = [name for name in committed if committed[name] != recorded[name]]
    assert not stale, f"a fresh recording generates other cases in {stale}: re-record the cassettes (see README)"


def test_replaying_the_committed_cassettes_passes_offline(fresh, tmp_path):
    manifest = cassettes.read_manifest(COMMITTED)
    done = run_msgconform("run", "--replay", "--cassette-dir", COMMITTED, "--report-dir", tmp_path,
                          "--max-examples", manifest["max_examples"], timeout=300)
    assert done.status == 0, done

    def outcomes(folder: Path) -> dict:
        document = json.loads((folder / "conformance.json").read_text())
        return {c["id"]: (c["outcome"], c["checked"]) for api in document["apis"].values() for c in api["cases"]}

    assert outcomes(tmp_path) == outcomes(fresh / "reports")
