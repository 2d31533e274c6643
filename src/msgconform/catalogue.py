"""The case catalogue: what msgconform judges, read from `specs/<api>.cases.yaml`.

A case is data — id, level, the document it rests on and the sentence quoted from it. The
code that judges a case lives in the suites; this module only knows what the cases are, so
that reports can list every catalogued case (also the ones a run never reached).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

import yaml

from msgconform import _resources

Level = Literal["MUST", "SHOULD", "INFO"]
LEVELS: tuple[Level, ...] = ("MUST", "SHOULD", "INFO")
CASE_ID = re.compile(r"^[A-Z]{2,5}-[A-Z0-9]{2,8}-\d{3}$")


@dataclass(frozen=True)
class Case:
    id: str
    level: Level
    operation: str
    title: str
    source: str
    expect: str
    quote: str = ""
    # A SHOULD case that demands a refusal names the variants (faults.yaml) whose
    # leniencies it must not blame; tests/unit/test_leniency_rule.py holds every such case to it.
    spares: tuple[str, ...] = ()

    @property
    def is_seed_quote(self) -> bool:
        """MUST cases quote a seed document shipped in specs/sources/."""
        return self.level == "MUST"


@dataclass(frozen=True)
class Catalogue:
    api: str
    title: str
    cases: tuple[Case, ...]

    def __getitem__(self, case_id: str) -> Case:
        for case in self.cases:
            if case.id == case_id:
                return case
        raise KeyError(case_id)

    def __contains__(self, case_id: object) -> bool:
        return any(case.id == case_id for case in self.cases)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(case.id for case in self.cases)


@cache
def load(api: str) -> Catalogue:
    path = _resources.cases_path(api)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    seen: set[str] = set()
    for entry in raw["cases"]:
        case = Case(
            id=entry["id"],
            level=entry["level"],
            operation=entry["operation"],
            title=entry["title"],
            source=entry["source"],
            expect=entry["expect"],
            quote=" ".join(str(entry.get("quote", "")).split()),
            spares=tuple(entry.get("spares", ())),
        )
        if not CASE_ID.match(case.id) or case.level not in LEVELS or case.id in seen:
            raise ValueError(f"{path.name}: case {case.id!r}: bad id, duplicate id or unknown level")
        seen.add(case.id)
        cases.append(case)
    return Catalogue(api=raw["api"], title=raw.get("title", raw["api"]), cases=tuple(cases))


def available_apis() -> tuple[str, ...]:
    """APIs with a catalogue in this version (sorted in the contract's order)."""
    order = ("itslearning", "completeempire", "highq", "superoffice")
    present = {p.name.removesuffix(".cases.yaml") for p in _resources.specs_dir().glob("*.cases.yaml")}
    return tuple(api for api in order if api in present)
