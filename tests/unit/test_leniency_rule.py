"""The rule that keeps issue 12 from happening again: no case may blame a leniency the
documents leave open without a variant proving it does not.

- Every SHOULD case that demands a refusal (its `expect` says the request is refused,
  rejected, or not answered with a 2xx) names in `spares` the variants of its API whose
  leniencies it must not blame; the quality group runs each variant and requires it to
  stay conformant.
- Every open choice a spec records (`x-msgconform-choice`) names the variants that take
  the other reading (`x-msgconform-choice-variants`) or says why no server could be
  blamed for it (`x-msgconform-choice-why-no-variant`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from msgconform import catalogue, specs
from msgconform.servers import faults

DEMANDS_REFUSAL = re.compile(
    r"\b(refused|rejected|is not answered with a 2xx|answers 400|answered with a 4xx)\b", re.IGNORECASE)
APIS = catalogue.available_apis()


def variants(api: str) -> set[str]:
    return {entry.name for entry in faults.for_api(api) if entry.kind == "variant"}


def choices(node: Any, path: str = "") -> Iterator[tuple[str, dict]]:
    if isinstance(node, dict):
        if "x-msgconform-choice" in node:
            yield path or "/", node
        for key, value in node.items():
            yield from choices(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from choices(value, f"{path}/{index}")


@pytest.mark.parametrize("api", APIS)
def test_every_should_case_demanding_a_refusal_names_the_variants_it_spares(api):
    known = variants(api)
    demanding = [case for case in catalogue.load(api).cases
                 if case.level == "SHOULD" and DEMANDS_REFUSAL.search(" ".join(case.expect.split()))]
    assert demanding, f"{api}: no SHOULD case demands a refusal? the pattern is stale"
    missing = [case.id for case in demanding if not case.spares]
    assert not missing, f"{api}: these SHOULD cases demand a refusal but name no variant in `spares`: {missing}"
    unknown = {case.id: sorted(set(case.spares) - known) for case in demanding if set(case.spares) - known}
    assert not unknown, f"{api}: `spares` names variants faults.yaml lacks: {unknown}"


@pytest.mark.parametrize("api", APIS)
def test_every_recorded_choice_names_its_variant_or_why_none(api):
    known = variants(api)
    spec = specs.load(api)
    found = list(choices(spec))
    assert found, f"{api}: the spec records no choice? the walk is stale"
    bare, unknown = [], {}
    for path, node in found:
        named = node.get("x-msgconform-choice-variants")
        why = node.get("x-msgconform-choice-why-no-variant")
        if not named and not (isinstance(why, str) and why.strip()):
            bare.append(path)
        elif named and set(named) - known:
            unknown[path] = sorted(set(named) - known)
    assert not bare, f"{api}: choices with neither a variant nor a reason why none: {bare}"
    assert not unknown, f"{api}: choices naming variants faults.yaml lacks: {unknown}"


def test_the_rule_catches_a_bare_choice_and_a_bare_case():
    """The checks above are not vacuous: a choice or a case without its note is found."""
    spec = {"paths": {"/x": {"post": {"x-msgconform-choice": "either reading"}}}}
    (path, node), = list(choices(spec))
    assert path == "/paths//x/post" and "x-msgconform-choice-variants" not in node
    assert DEMANDS_REFUSAL.search("A request that violates the spec is not answered with a 2xx.")
    assert not DEMANDS_REFUSAL.search("Every status code is one the spec lists for the operation.")
