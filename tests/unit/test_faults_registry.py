"""The fault registry (servers/faults.yaml) loads, is consistent, and names real cases."""

from __future__ import annotations

import pytest
import yaml

from msgconform import _resources
from msgconform.servers import AVAILABLE, faults


def catalogued_ids(api: str) -> set[str]:
    data = yaml.safe_load(_resources.cases_path(api).read_text(encoding="utf-8"))
    return {case["id"] for case in data["cases"]}


def test_registry_loads_faults_and_variants_for_every_server() -> None:
    entries = faults.registry()
    assert entries, "faults.yaml is empty"
    for api in AVAILABLE:
        kinds = {entry.kind for entry in faults.for_api(api)}
        assert kinds == {"fault", "variant"}, f"{api} needs both faults and variants"


def test_names_are_unique_per_api() -> None:
    keys = [(entry.api, entry.name) for entry in faults.registry()]
    assert len(keys) == len(set(keys))


def test_every_fault_catches_catalogued_cases_and_variants_catch_none() -> None:
    for entry in faults.registry():
        if entry.kind == "variant":
            assert entry.catches == ()
            continue
        assert entry.catches, f"{entry.name} catches nothing"
        unknown = set(entry.catches) - catalogued_ids(entry.api)
        assert not unknown, f"{entry.api} fault {entry.name} names uncatalogued cases {sorted(unknown)}"


def test_the_brief_s_itslearning_entries_are_all_there() -> None:
    names = {entry.name: entry for entry in faults.for_api("itslearning")}
    assert names["send-200"].catches == ("ITS-SEND-001", "ITS-HTTP-003")
    assert set(names["no-access-check"].catches) == {"ITS-GET-001", "ITS-GET-002"}
    assert names["large-ids"].kind == "variant"
    assert len([e for e in names.values() if e.kind == "fault"]) >= 16
    assert len([e for e in names.values() if e.kind == "variant"]) >= 8


def test_faultset_is_immutable_and_answers_on() -> None:
    chosen = faults.FaultSet(["send-200", "large-ids"], api="itslearning")
    assert chosen.on("send-200") and chosen.on("large-ids")
    assert not chosen.on("send-no-location")
    assert list(chosen) == ["large-ids", "send-200"] and len(chosen) == 2
    assert chosen == faults.FaultSet(["large-ids", "send-200"], api="itslearning")
    with pytest.raises(AttributeError):
        chosen.extra = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("make", [
    lambda: faults.FaultSet(["no-such-fault"], api="itslearning"),
    lambda: faults.FaultSet([], api="itslearning").on("no-such-fault"),
    lambda: faults.FaultSet(["send-200"], api="highq"),
    lambda: faults.lookup("no-such-fault"),
])
def test_unknown_names_raise_a_clear_error(make) -> None:
    with pytest.raises(faults.UnknownFault, match="unknown fault '(no-such-fault|send-200)'"):
        make()


def test_listing_prints_one_tab_separated_line_per_entry() -> None:
    lines = faults.listing().splitlines()
    assert len(lines) == len(faults.registry())
    assert "itslearning\tsend-200\tA successful send answers 200 OK instead of 201 Created." in lines
    assert all(line.count("\t") == 2 for line in lines)
    assert any(line.startswith("itslearning\tlarge-ids\t[variant] ") for line in lines)


def test_a_malformed_entry_is_refused_with_its_position(monkeypatch, tmp_path) -> None:
    bad = tmp_path / "servers" / "faults.yaml"
    bad.parent.mkdir()
    bad.write_text("- {api: itslearning, name: x, kind: fault, description: no catches}\n")
    monkeypatch.setattr(faults._resources, "package_file", lambda name: tmp_path / name)
    faults.registry.cache_clear()
    try:
        with pytest.raises(faults.FaultRegistryError, match="entry 0: .*catches"):
            faults.registry()
    finally:
        monkeypatch.undo()
        faults.registry.cache_clear()


# APIs whose faults and variants say what the behaviour diff names (tests/quality checks it).
# An API added later joins this list once its entries carry `diff:`.
DIFF_COVERED = ("itslearning", "highq", "completeempire", "superoffice")


def test_every_entry_says_what_the_behaviour_diff_names_for_it():
    lacking = [f"{e.api}:{e.name}" for e in faults.registry() if e.api in DIFF_COVERED and e.diff is None]
    assert not lacking, f"no `diff:` in faults.yaml for {lacking}"


def test_a_diff_expectation_names_something_or_says_none():
    from pydantic import ValidationError

    from msgconform.servers.faults import DiffExpectation

    assert DiffExpectation(none=True).none
    assert DiffExpectation(exit=1, names=("headers: removed: location:",)).exit == 1
    for bad in ({}, {"none": True, "names": ["x"]}, {"none": True, "exit": 1}, {"exit": 2, "names": ["x"]}):
        with pytest.raises(ValidationError):
            DiffExpectation.model_validate(bad)
