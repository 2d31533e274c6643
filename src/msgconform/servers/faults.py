"""The registry of named faults and variants, read from `faults.yaml` next to this module.

A *fault* is a deviation a real vendor could ship; its entry names the catalogued cases
that must catch it. A *variant* is an open choice the documents allow, turned the other
way; the suite must still call the server conformant with it. Both are switched on by
name (`msgconform serve --fault NAME`), and a reference server asks its `FaultSet`
whether a name is on:

    faults = FaultSet(["send-200"], api="itslearning")
    if faults.on("send-200"): ...

`FaultSet.on` raises `UnknownFault` for a name the registry lacks, so a typo in a server
fails loudly instead of silently never switching anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from msgconform import _resources, _yaml

__all__ = [
    "DiffExpectation",
    "Entry",
    "FaultRegistryError",
    "FaultSet",
    "UnknownFault",
    "for_api",
    "listing",
    "lookup",
    "registry",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class FaultRegistryError(RuntimeError):
    """faults.yaml is malformed (a packaging or editing mistake, never a user error)."""


class UnknownFault(ValueError):
    """A fault or variant name that the registry does not know (for that API)."""

    def __init__(self, name: str, api: str | None = None) -> None:
        where = f" for {api}" if api else ""
        super().__init__(f"unknown fault {name!r}{where} (see `msgconform serve --list-faults`)")
        self.name = name
        self.api = api


class DiffExpectation(BaseModel):
    """What `msgconform diff` names when it compares a recording of the faithful server with
    one of this entry switched on (the behaviour diff): `names` are texts each of which some
    change's `label` contains (`section: subject-or-where: before → after`), and `exit` its exit
    status. `none: true` says the diff reports nothing at all (the answers differ only in
    what the diff masks, or not in what the suite's requests can see)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exit: Literal[0, 1] = 0
    names: tuple[str, ...] = ()
    none: bool = False

    @model_validator(mode="after")
    def _none_names_nothing(self) -> DiffExpectation:
        if self.none and (self.names or self.exit):
            raise ValueError("`none: true` takes no names and exit 0")
        if not self.none and not self.names:
            raise ValueError("name what the diff shows in `names`, or say `none: true`")
        return self


class Entry(BaseModel):
    """One registry entry: a fault (with the cases that catch it) or a variant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api: str
    name: str
    kind: Literal["fault", "variant"]
    description: str
    catches: tuple[str, ...] = ()
    diff: DiffExpectation | None = None  # what the behaviour diff names for it (tests/quality)

    @field_validator("name")
    @classmethod
    def _name_is_a_slug(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be lower-case letters, digits and dashes")
        return value

    @field_validator("description")
    @classmethod
    def _description_is_one_line(cls, value: str) -> str:
        if not value.strip() or "\n" in value.strip():
            raise ValueError("must be one non-empty line")
        return value.strip()

    @model_validator(mode="after")
    def _catches_fit_the_kind(self) -> Entry:
        if self.kind == "fault" and not self.catches:
            raise ValueError("a fault must name the cases that catch it in `catches`")
        if self.kind == "variant" and self.catches:
            raise ValueError("a variant catches nothing; remove `catches`")
        return self


@cache
def registry() -> tuple[Entry, ...]:
    """Every entry of faults.yaml, validated, in file order."""
    path = _resources.package_file("servers/faults.yaml")
    try:
        raw = _yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FaultRegistryError(f"cannot read {path}: {exc}") from None
    if not isinstance(raw, list):
        raise FaultRegistryError(f"{path}: expected a list of entries")
    entries: list[Entry] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(raw):
        try:
            entry = Entry.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "entry"
            raise FaultRegistryError(f"{path}: entry {index}: {where}: {first['msg']}") from None
        if (entry.api, entry.name) in seen:
            raise FaultRegistryError(f"{path}: {entry.api} fault {entry.name!r} is listed twice")
        seen.add((entry.api, entry.name))
        entries.append(entry)
    return tuple(entries)


@cache
def for_api(api: str) -> tuple[Entry, ...]:
    """The entries of one API (empty for an API without faults)."""
    return tuple(e for e in registry() if e.api == api)


@cache
def _names_of(api: str) -> frozenset[str]:
    return frozenset(e.name for e in for_api(api))


def lookup(name: str) -> tuple[Entry, ...]:
    """Every entry called `name` (one per API that defines it); UnknownFault if none."""
    found = tuple(e for e in registry() if e.name == name)
    if not found:
        raise UnknownFault(name)
    return found


def listing() -> str:
    """`api<TAB>name<TAB>description` lines for `msgconform serve --list-faults`."""
    lines = []
    for e in registry():
        prefix = "[variant] " if e.kind == "variant" else ""
        lines.append(f"{e.api}\t{e.name}\t{prefix}{e.description}")
    return "\n".join(lines) + "\n"


class FaultSet:
    """An immutable set of switched-on fault and variant names of one API."""

    __slots__ = ("_api", "_known", "_names")

    def __init__(self, names: Iterable[str] = (), *, api: str) -> None:
        known = _names_of(api)
        chosen = frozenset(names)
        for name in sorted(chosen):
            if name not in known:
                raise UnknownFault(name, api)
        self._api = api
        self._known = known
        self._names = chosen

    @property
    def api(self) -> str:
        return self._api

    def on(self, name: str) -> bool:
        """Whether `name` is switched on; UnknownFault if this API has no such entry. (A
        server asks this many times per request: two set lookups.)"""
        if name not in self._known:
            raise UnknownFault(name, self._api)
        return name in self._names

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FaultSet) and (self._api, self._names) == (other._api, other._names)

    def __hash__(self) -> int:
        return hash((self._api, self._names))

    def __repr__(self) -> str:
        return f"FaultSet({sorted(self._names)!r}, api={self._api!r})"
