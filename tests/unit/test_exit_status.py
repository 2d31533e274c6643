"""The exit status of `run` (contracts.md section 1) with stopped and interrupted runs."""

from __future__ import annotations

from datetime import datetime, timezone

from msgconform import catalogue
from msgconform.outcomes import fold
from msgconform.report import RunReport
from msgconform.runner import exit_status

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def _result(api: str, *, fail: bool = False, stopped: bool = False):
    cat = catalogue.load(api)
    must = next(case for case in cat.cases if case.level == "MUST")
    events = [{"kind": "judgement", "api": api, "case": case.id, "test": "t", "passed": 1,
               "failed": 1 if fail and case is must else 0, "skipped": [], "failure": "x"}
              for case in cat.cases[: 3 if stopped else len(cat.cases)]]
    if fail and must not in cat.cases[:3]:
        events.append({"kind": "judgement", "api": api, "case": must.id, "test": "t", "passed": 0, "failed": 1,
                       "skipped": [], "failure": "x"})
    if stopped:
        events.append({"kind": "stopped", "api": api, "test": "t", "details": "stopped after 5 transport failures"})
    return fold(cat, "http://127.0.0.1:1", events)


def _report(*results, interrupted: bool = False) -> RunReport:
    return RunReport("live", False, 1, 1, NOW, NOW, list(results), interrupted=interrupted)


def test_a_stopped_api_makes_the_run_exit_2_while_the_others_are_judged():
    assert exit_status(_report(_result("itslearning", stopped=True), _result("highq"))) == 2


def test_a_must_failure_elsewhere_wins_over_a_stopped_api():
    assert exit_status(_report(_result("itslearning", stopped=True), _result("highq", fail=True))) == 1


def test_an_interrupted_run_exits_2_unless_a_must_failure_was_judged():
    assert exit_status(_report(_result("itslearning"), _result("highq"))) == 0
    assert exit_status(_report(_result("itslearning"), _result("highq"), interrupted=True)) == 2
    # contracts.md section 1: a nonconformance (1) wins over 2 when both happen in one run
    assert exit_status(_report(_result("itslearning"), _result("highq", fail=True), interrupted=True)) == 1
