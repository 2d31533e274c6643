"""Every case catalogue (`specs/*.cases.yaml`) rests on what it cites.

A MUST case is only as good as its quote: the sentence must stand, verbatim, in the seed
document the case names (runs of whitespace count as one space, nothing else is forgiven).
SHOULD and INFO cases name their source too. Ids are unique and stable-looking, levels are
known, and each case's `operation` is an operationId of the API's spec (or `any`).

The catalogues are read as raw YAML here, independently of msgconform.catalogue, so that a
mistake in the data cannot hide behind the loader's normalisation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from msgconform import _resources, specs

CASE_ID = re.compile(r"^[A-Z]{2,5}-[A-Z0-9]{2,8}-\d{3}$")
LEVELS = {"MUST", "SHOULD", "INFO"}
CATALOGUES = sorted(_resources.specs_dir().glob("*.cases.yaml"))


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_there_is_a_catalogue_to_check() -> None:
    assert any(path.name == "itslearning.cases.yaml" for path in CATALOGUES)


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.name)
def test_must_quotes_stand_verbatim_in_their_seed(path: Path) -> None:
    checked = 0
    for case in _load(path)["cases"]:
        if case["level"] != "MUST":
            continue
        source = _resources.sources_dir() / str(case.get("source", ""))
        assert case.get("source") and source.is_file(), (
            f"{case['id']}: source {case.get('source')!r} is not a file in specs/sources/"
        )
        quote = _collapse(str(case.get("quote", "")))
        assert quote, f"{case['id']}: a MUST case needs a quote"
        assert quote in _collapse(source.read_text(encoding="utf-8")), (
            f"{case['id']}: quote not found verbatim in {source.name}"
        )
        checked += 1
    assert checked, f"{path.name}: no MUST case"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.name)
def test_should_and_info_cases_name_a_source(path: Path) -> None:
    for case in _load(path)["cases"]:
        if case["level"] in ("SHOULD", "INFO"):
            assert str(case.get("source", "")).strip(), f"{case['id']}: no source"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.name)
def test_ids_are_unique_well_formed_and_levels_known(path: Path) -> None:
    ids = [case["id"] for case in _load(path)["cases"]]
    assert len(ids) == len(set(ids)), f"duplicate ids: {sorted({i for i in ids if ids.count(i) > 1})}"
    for case in _load(path)["cases"]:
        assert CASE_ID.match(case["id"]), f"{case['id']!r} is not of the form ABC-XYZ-000"
        assert case["level"] in LEVELS, f"{case['id']}: level {case['level']!r}"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.name)
def test_operations_name_an_operation_of_the_spec(path: Path) -> None:
    catalogue = _load(path)
    assert catalogue["api"] == path.name.removesuffix(".cases.yaml")
    spec = specs.load(catalogue["api"])
    operation_ids = {
        op["operationId"]
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    for case in catalogue["cases"]:
        assert case["operation"] == "any" or case["operation"] in operation_ids, (
            f"{case['id']}: operation {case['operation']!r} not in {sorted(operation_ids)}"
        )


def test_a_misquote_is_caught() -> None:
    """The whitespace rule forgives line breaks and indentation, and nothing else."""
    seed = _collapse((_resources.sources_dir() / "003_676dc405cd31de98.txt").read_text(encoding="utf-8"))
    assert (
        _collapse("Returns HTTP status 404 not found,\n   if the messageId does not exist for the user.")
        in seed
    )
    assert (
        _collapse("Returns HTTP status 404 not found, if the messageId does not exist for the user!")
        not in seed
    )
    assert _collapse("returns HTTP status 404 not found") not in seed
