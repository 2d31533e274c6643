"""Every catalogued case is judged by some check, and no check judges an uncatalogued case.

A check names its case with a string literal (`response_check(API, "ITS-SEND-001")`,
`recorder.judge("ITS-GET-001", ...)`), so reading the suites' string constants finds
every case a suite can judge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from msgconform import catalogue
from msgconform.catalogue import CASE_ID

SUITES = Path(__file__).resolve().parents[2] / "suites"


def case_ids_in_suite(api: str) -> set[str]:
    found = set()
    for path in (SUITES / api).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CASE_ID.match(node.value):
                found.add(node.value)
    return found


@pytest.mark.parametrize("api", catalogue.available_apis())
def test_every_catalogued_case_has_a_check(api):
    missing = set(catalogue.load(api).ids) - case_ids_in_suite(api)
    assert not missing, f"{api}: catalogued cases no check judges: {sorted(missing)}"


@pytest.mark.parametrize("api", catalogue.available_apis())
def test_no_check_claims_an_uncatalogued_case(api):
    unknown = case_ids_in_suite(api) - set(catalogue.load(api).ids)
    assert not unknown, f"{api}: checks claim cases the catalogue lacks: {sorted(unknown)}"


def test_a_suite_exists_for_every_catalogue():
    assert catalogue.available_apis(), "no case catalogue found"
    for api in catalogue.available_apis():
        assert (SUITES / api).is_dir(), f"no suite for {api}"
