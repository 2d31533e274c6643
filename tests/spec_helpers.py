"""Small readers shared by the spec tests (tests/unit/test_<api>_spec.py): the seed texts,
the samples of an ASP.NET help page, and a walk over a spec's nodes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from msgconform import _resources


def seed_text(name: str) -> str:
    """A seed document from specs/sources/, as text."""
    return (_resources.sources_dir() / name).read_text(encoding="utf-8")


def help_page_sample(seed: str, formats: str) -> str:
    """The sample an ASP.NET help page prints after a 'Request/Response Formats' line such as
    'application/xml, text/xml'."""
    match = re.search(
        re.escape(formats) + r"\s*Sample:\s*(.*?)(?:\n\n?(?:application/|Response Information)|\Z)", seed, re.S
    )
    assert match, f"no sample for {formats}"
    return match.group(1).strip()


def walk(node: Any, where: str = "#") -> Iterator[tuple[str, Any]]:
    """Every node of a spec with its JSON pointer."""
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}/{index}")


def declared_types(schema: dict[str, Any]) -> set[str]:
    """A schema's `type` as a set (a single string or a list of them)."""
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)
