"""From judgements to outcomes: one outcome per catalogued case, and a verdict per API.

The suite (in a pytest subprocess) writes *events*, one JSON object per line:

    {"kind": "judgement", "api": "itslearning", "case": "ITS-SEND-001", "test": "...",
     "passed": 12, "failed": 1, "skipped": ["reason", ...], "failure": "first failure"}
    {"kind": "harness", "api": "itslearning", "test": "...", "details": "what broke"}
    {"kind": "stopped", "api": "itslearning", "test": "...", "details": "why the API's run stopped"}

A `stopped` event (max_duration, the circuit breaker, an interrupted run, a suite process
that died) makes every case not judged yet `error` with that reason, which also comes
first among the API's harness errors (the one line the command prints).

This module folds them into `CaseOutcome`s with the rules of contracts.md section 3:
a case that judged nothing is never `pass`; a failing SHOULD case is `non-strict`; INFO
never fails. It knows nothing about pytest or HTTP.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from msgconform.catalogue import Case, Catalogue

Outcome = Literal["pass", "fail", "non-strict", "skip", "error", "waived"]
Verdict = Literal["conformant", "nonconformant", "error", "skipped"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "non-strict", "skip", "error")
NOT_JUDGED = "not judged: no exchange of this run met the case's conditions"
WAIVED: Outcome = "waived"  # only with --baseline (contracts.md section 5; see msgconform.baseline)


@dataclass(frozen=True)
class Waiver:
    """Why a failure does not count: the baseline entry that covers it, and what it replaced."""

    reason: str
    expires: date | None
    ticket: str | None
    observed: Outcome  # fail or non-strict


@dataclass
class CaseOutcome:
    case: Case
    outcome: Outcome
    checked: int
    details: str = ""
    waived: Waiver | None = None  # set exactly when outcome is "waived"


@dataclass
class ApiResult:
    api: str
    target: str
    cases: list[CaseOutcome]
    harness_errors: list[str] = field(default_factory=list)
    tested: bool = True

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        for item in self.cases:
            counts[item.outcome] = counts.get(item.outcome, 0) + 1  # "waived" only when some case is
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
    return read_json_lines(path)


def read_json_lines(path: Path) -> list[dict]:
    """One JSON object per line. Split on "\n" only (a line may carry U+2028 or U+0085 from a
    vendor's answer, where splitlines() would break); a last line without its newline is a
    write torn by a killed process and is dropped, so what was written whole is never lost."""
    text = path.read_bytes().decode("utf-8", "replace")
    lines = text.split("\n")
    torn = lines.pop() if not text.endswith("\n") else ""
    records = [json.loads(line) for line in lines if line.strip()]
    if torn.strip():
        with contextlib.suppress(ValueError):
            records.append(json.loads(torn))
    return records


def fold(catalogue: Catalogue, target: str, events: Iterable[dict]) -> ApiResult:
    """One outcome per catalogued case, from the events of one API."""
    tallies: dict[str, Tally] = {case.id: Tally() for case in catalogue.cases}
    harness: list[str] = []
    stopped: list[str] = []
    for event in events:
        if event.get("api") != catalogue.api:
            continue
        if event["kind"] == "stopped":
            stopped.append(event["details"])
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

    stopped = list(dict.fromkeys(stopped))
    results = [_outcome(case, tallies[case.id], harness, stopped[:1]) for case in catalogue.cases]
    return ApiResult(api=catalogue.api, target=target, cases=results, harness_errors=stopped + harness)


def _outcome(case: Case, tally: Tally, harness: list[str], stopped: Sequence[str] = ()) -> CaseOutcome:
    checked = tally.passed + tally.failed
    if tally.failed and case.level != "INFO":
        outcome: Outcome = "fail" if case.level == "MUST" else "non-strict"
        return CaseOutcome(case, outcome, checked, tally.failure)
    if checked:
        return CaseOutcome(case, "pass", checked, tally.failure if case.level == "INFO" else "")
    if stopped:
        return CaseOutcome(case, "error", 0, f"not judged: {stopped[0]}")
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
