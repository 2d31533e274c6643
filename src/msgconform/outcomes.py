"""From judgements to outcomes: one outcome per catalogued case, and a verdict per API.

The suite (in a pytest subprocess) writes *events*, one JSON object per line:

    {"kind": "judgement", "api": "itslearning", "case": "ITS-SEND-001", "test": "...",
     "passed": 12, "failed": 1, "skipped": ["reason", ...], "failure": "first failure"}
    {"kind": "harness", "api": "itslearning", "test": "...", "details": "what broke"}

This module folds them into `CaseOutcome`s with the rules of contracts.md section 3:
a case that judged nothing is never `pass`; a failing SHOULD case is `non-strict`; INFO
never fails. It knows nothing about pytest or HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from msgconform.catalogue import Case, Catalogue

Outcome = Literal["pass", "fail", "non-strict", "skip", "error"]
Verdict = Literal["conformant", "nonconformant", "error", "skipped"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "non-strict", "skip", "error")
NOT_JUDGED = "not judged: no exchange of this run met the case's conditions"


@dataclass
class CaseOutcome:
    case: Case
    outcome: Outcome
    checked: int
    details: str = ""


@dataclass
class ApiResult:
    api: str
    target: str
    cases: list[CaseOutcome]
    harness_errors: list[str] = field(default_factory=list)
    tested: bool = True

    def counts(self) -> dict[str, int]:
        counts = {outcome: 0 for outcome in OUTCOMES}
        for item in self.cases:
            counts[item.outcome] += 1
        return counts

    def verdict(self, strict: bool) -> Verdict:
        if not self.tested:
            return "skipped"
        outcomes = {item.outcome for item in self.cases}
        if "fail" in outcomes or (strict and "non-strict" in outcomes):
            return "nonconformant"
        if "error" in outcomes or self.harness_errors or not any(c.checked for c in self.cases):
            return "error"
        return "conformant"


@dataclass
class Tally:
    """What the checks of one case said: judged passes and failures, skip reasons, and the
    first failure (for INFO cases: the observation). The recorder keeps one per test and
    case; `fold` adds them up per case."""

    passed: int = 0
    failed: int = 0
    skips: list[str] = field(default_factory=list)
    failure: str = ""


def read_events(path: Path) -> list[dict]:
    """The events a suite run wrote; a missing file means the suite wrote none."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            events.append(json.loads(line))
    return events


def fold(catalogue: Catalogue, target: str, events: Iterable[dict]) -> ApiResult:
    """One outcome per catalogued case, from the events of one API."""
    tallies: dict[str, Tally] = {case.id: Tally() for case in catalogue.cases}
    harness: list[str] = []
    for event in events:
        if event.get("api") != catalogue.api:
            continue
        if event["kind"] == "harness":
            harness.append(event["details"])
            continue
        tally = tallies.get(event["case"])
        if tally is None:
            harness.append(f"{event['test']}: judged {event['case']}, which is not in the catalogue")
            continue
        tally.passed += event.get("passed", 0)
        tally.failed += event.get("failed", 0)
        tally.skips.extend(event.get("skipped", []))
        if event.get("failure") and not tally.failure:
            tally.failure = event["failure"]

    results = [_outcome(case, tallies[case.id], harness) for case in catalogue.cases]
    return ApiResult(api=catalogue.api, target=target, cases=results, harness_errors=harness)


def _outcome(case: Case, tally: Tally, harness: list[str]) -> CaseOutcome:
    checked = tally.passed + tally.failed
    if tally.failed and case.level != "INFO":
        outcome: Outcome = "fail" if case.level == "MUST" else "non-strict"
        return CaseOutcome(case, outcome, checked, tally.failure)
    if checked:
        return CaseOutcome(case, "pass", checked, tally.failure if case.level == "INFO" else "")
    if harness:
        return CaseOutcome(case, "error", 0, f"not judged: the suite failed ({harness[0]})")
    if tally.skips:
        return CaseOutcome(case, "skip", 0, tally.skips[0])
    # Nothing the run sent met the case's conditions (for example no 200 answer to get,
    # because sends failed: other cases say why). tests/quality proves every case is
    # judged against the faithful servers, so a check that can never apply is caught there.
    return CaseOutcome(case, "skip", 0, NOT_JUDGED)


def skipped_api(catalogue: Catalogue, target: str, reason: str) -> ApiResult:
    """An API that was not tested: every case `skip` with the reason."""
    return ApiResult(
        api=catalogue.api,
        target=target,
        cases=[CaseOutcome(case, "skip", 0, reason) for case in catalogue.cases],
        tested=False,
    )
