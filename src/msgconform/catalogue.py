"""The case catalogue: what msgconform judges, read from `specs/<api>.cases.yaml`.

A case is data — id, level, the document it rests on and the sentence quoted from it. The
code that judges a case lives in the suites; this module only knows what the cases are, so
that reports can list every catalogued case (also the ones a run never reached).

The file is read through a pydantic model (`_CatalogueFile`): unknown keys, a bad id, an
unknown level or a duplicate id are refused as ``<file>: <key path>: <problem>``
(`CatalogueError`). The model stays private; the rest of msgconform sees the frozen
dataclasses `Case` and `Catalogue`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

import yaml  # its YAMLError; the loading is _yaml's (libyaml)
from pydantic import BaseModel, ValidationError, field_validator, model_validator

from msgconform import _resources, _yaml
from msgconform._validation import MODEL_CONFIG, first_problem

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


class CatalogueError(ValueError):
    """A case catalogue is malformed (an editing or packaging mistake, never a user's)."""


class _CaseEntry(BaseModel):
    model_config = MODEL_CONFIG

    id: str
    level: Level
    operation: str
    title: str
    source: str
    expect: str
    quote: str | None = None
    spares: tuple[str, ...] = ()  # variants whose leniencies a refusal-demanding SHOULD case must not blame

    @field_validator("id")
    @classmethod
    def _id_has_the_form(cls, value: str) -> str:
        if not CASE_ID.match(value):
            raise ValueError("must look like ITS-SEND-001 (prefix, group, three digits)")
        return value


class _CatalogueFile(BaseModel):
    model_config = MODEL_CONFIG

    api: str
    title: str | None = None
    cases: tuple[_CaseEntry, ...]

    @model_validator(mode="after")
    def _ids_are_unique(self) -> _CatalogueFile:
        seen: set[str] = set()
        for case in self.cases:
            if case.id in seen:
                raise ValueError(f"case id {case.id} is listed twice")
            seen.add(case.id)
        return self


@cache
def load(api: str) -> Catalogue:
    path = _resources.cases_path(api)
    try:
        raw = _yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = _CatalogueFile.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path.name}: cannot read the case catalogue: {exc}") from None
    except ValidationError as exc:
        raise CatalogueError(f"{path.name}: {first_problem(exc)}") from None
    cases = tuple(
        Case(
            id=entry.id,
            level=entry.level,
            operation=entry.operation,
            title=entry.title,
            source=entry.source,
            expect=entry.expect,
            quote=" ".join((entry.quote or "").split()),
            spares=tuple(entry.spares),
        )
        for entry in parsed.cases
    )
    return Catalogue(api=parsed.api, title=parsed.title or parsed.api, cases=cases)


def available_apis() -> tuple[str, ...]:
    """APIs with a catalogue in this version (sorted in the contract's order)."""
    order = ("itslearning", "completeempire", "highq", "superoffice")
    present = {p.name.removesuffix(".cases.yaml") for p in _resources.specs_dir().glob("*.cases.yaml")}
    return tuple(api for api in order if api in present)
