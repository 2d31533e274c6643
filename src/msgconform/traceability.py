"""How a catalogued case is traced to the documents in reports: labels, severity, source link.

Shared by the suite's Allure plugin (labels on pytest tests) and the Allure report writer
(one result per catalogued case), so both speak the same vocabulary:

- epic = the API, feature = the operation, story = the case's title;
- `case` = the case id, `level` = MUST, SHOULD or INFO (the report's categories match on
  it), severity from the level: MUST critical, SHOULD normal, INFO minor;
- a link to the seed document the case rests on: `specs/sources/<file>` in the repository.
  Its address is `$MSGCONFORM_SOURCES_URL/<file>` when that variable is set (for example
  the repository's web view of `specs/sources`, in CI), else the document as this
  msgconform carries it (a `file:` URI: it opens from the report on the same machine).
"""

from __future__ import annotations

import os
import re

from msgconform import _resources
from msgconform.catalogue import Case

SEVERITY = {"MUST": "critical", "SHOULD": "normal", "INFO": "minor"}
LEVEL_ORDER = ("MUST", "SHOULD", "INFO")  # the most serious first
_SEED = re.compile(r"^(\d{3}_[0-9a-f]{16}\.txt)\b")
_RFC = re.compile(r"\bRFC (\d{3,5})\b")


def seed_document(case: Case) -> str | None:
    """The seed file (in specs/sources/) a case's source names, if it names one first."""
    match = _SEED.match(case.source.strip())
    return match.group(1) if match else None


def source_links(case: Case) -> list[dict[str, str]]:
    """Allure links for a case: its seed document, and any RFC its source cites."""
    links = []
    seed = seed_document(case)
    if seed is not None:
        links.append({"type": "link", "name": f"specs/sources/{seed}", "url": seed_url(seed)})
    for number in dict.fromkeys(_RFC.findall(case.source)):
        links.append({"type": "link", "name": f"RFC {number}", "url": f"https://www.rfc-editor.org/rfc/rfc{number}"})
    return links


def seed_url(file: str) -> str:
    base = os.environ.get("MSGCONFORM_SOURCES_URL", "").strip()
    if base:
        return f"{base.rstrip('/')}/{file}"
    return (_resources.sources_dir() / file).resolve().as_uri()


def case_labels(api: str, case: Case) -> list[tuple[str, str]]:
    return [
        ("epic", api),
        ("feature", case.operation),
        ("story", case.title),
        ("case", case.id),
        ("level", case.level),
        ("severity", SEVERITY[case.level]),
        ("tag", case.level),
    ]


def most_serious(levels: set[str] | list[str]) -> str | None:
    for level in LEVEL_ORDER:
        if level in levels:
            return level
    return None
