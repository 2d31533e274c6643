"""From judgements to outcomes and verdicts (contracts.md section 3), on hand-written events.

A tiny catalogue with one case per level is folded from events such as the suite writes,
so each rule shows as one small test: a case that judged nothing is never `pass`, a failing
SHOULD case is `non-strict`, INFO never fails, a case nothing met is `skip` with a reason, a broken suite makes unjudged cases `error`,
and the verdict and exit status follow from the outcomes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from msgconform.catalogue import Case, Catalogue
from msgconform.outcomes import OUTCOMES, ApiResult, CaseOutcome, fold, read_events, skipped_api
from msgconform.report import RunReport
from msgconform.runner import exit_status

MUST = Case("T-A-001", "MUST", "send", "must case", "000_x.txt", "holds", quote="It is so.")
SHOULD = Case("T-A-002", "SHOULD", "send", "should case", "RFC 9110", "holds")
INFO = Case("T-A-003", "INFO", "send", "info case", "observation", "is observed")
CATALOGUE = Catalogue(api="itslearning", title="test", cases=(MUST, SHOULD, INFO))
TARGET = "http://127.0.0.1:1"


def judged(case: Case, passed: int = 0, failed: int = 0, skipped: tuple[str, ...] = (), failure: str = "",
           api: str = "itslearning") -> dict:
    return {"kind": "judgement", "api": api, "case": case.id, "test": f"test_{case.id}",
            "passed": passed, "failed": failed, "skipped": list(skipped), "failure": failure}


def harness(details: str, api: str = "itslearning") -> dict:
    return {"kind": "harness", "api": api, "test": "<session>", "details": details}


def outcomes_of(*events: dict) -> dict[str, CaseOutcome]:
    return {item.case.id: item for item in fold(CATALOGUE, TARGET, events).cases}


def test_every_catalogued_case_gets_exactly_one_outcome_in_catalogue_order() -> None:
    result = fold(CATALOGUE, TARGET, [judged(MUST, passed=1)])
    assert [item.case for item in result.cases] == [MUST, SHOULD, INFO]
    assert (result.api, result.target) == ("itslearning", TARGET)


def test_checks_that_held_make_pass_and_count_as_checked() -> None:
    got = outcomes_of(judged(MUST, passed=3), judged(MUST, passed=2), judged(SHOULD, passed=1))
    assert (got[MUST.id].outcome, got[MUST.id].checked, got[MUST.id].details) == ("pass", 5, "")
    assert (got[SHOULD.id].outcome, got[SHOULD.id].checked) == ("pass", 1)


def test_a_failing_must_case_fails_with_the_first_failure_as_details() -> None:
    got = outcomes_of(
        judged(MUST, passed=4, failed=1, failure="201 expected, got 200 (POST /send)"),
        judged(MUST, failed=2, failure="a later failure"),
    )
    assert got[MUST.id].outcome == "fail"
    assert got[MUST.id].checked == 7  # every judged response, passed or failed
    assert got[MUST.id].details == "201 expected, got 200 (POST /send)"


def test_a_failing_should_case_is_non_strict() -> None:
    got = outcomes_of(judged(SHOULD, passed=1, failed=1, failure="500 for malformed input (POST /send)"))
    assert (got[SHOULD.id].outcome, got[SHOULD.id].checked) == ("non-strict", 2)
    assert got[SHOULD.id].details == "500 for malformed input (POST /send)"


def test_an_info_case_never_fails_its_observation_goes_to_details() -> None:
    got = outcomes_of(judged(INFO, passed=2, failed=3, failure="schema-valid send answered 400"))
    assert got[INFO.id].outcome == "pass"
    assert got[INFO.id].checked == 5
    assert got[INFO.id].details == "schema-valid send answered 400"


def test_a_case_that_judged_nothing_is_never_pass() -> None:
    got = outcomes_of(judged(MUST, passed=0), judged(SHOULD, skipped=("no XML support",)))
    assert (got[MUST.id].outcome, got[MUST.id].checked) == ("skip", 0)  # reached, judged nothing
    assert got[MUST.id].details.startswith("not judged")
    assert (got[SHOULD.id].outcome, got[SHOULD.id].details) == ("skip", "no XML support")
    assert (got[INFO.id].outcome, got[INFO.id].checked) == ("skip", 0)  # never reached
    assert all(item.outcome != "pass" for item in got.values())


def test_a_skip_does_not_hide_checks_that_ran() -> None:
    got = outcomes_of(judged(MUST, skipped=("not here",)), judged(MUST, passed=1))
    assert got[MUST.id].outcome == "pass"


def test_a_broken_suite_makes_every_unjudged_case_error_and_keeps_the_judged_ones() -> None:
    got = outcomes_of(judged(MUST, passed=2), judged(SHOULD, skipped=("n/a",)), harness("collection failed"))
    assert got[MUST.id].outcome == "pass"
    assert got[SHOULD.id].outcome == "error"
    assert got[INFO.id].outcome == "error"
    assert "collection failed" in got[INFO.id].details


def test_events_of_other_apis_are_ignored() -> None:
    got = outcomes_of(judged(MUST, passed=1), judged(SHOULD, failed=1, api="highq"), harness("x", api="highq"))
    assert got[MUST.id].outcome == "pass" and got[SHOULD.id].outcome == "skip"
    assert fold(CATALOGUE, TARGET, [harness("x", api="highq")]).harness_errors == []


def test_judging_an_uncatalogued_case_is_a_harness_error() -> None:
    stray = dict(judged(MUST, passed=1), case="T-A-999")
    result = fold(CATALOGUE, TARGET, [judged(MUST, passed=1), judged(SHOULD, passed=1), stray])
    assert len(result.harness_errors) == 1 and "T-A-999" in result.harness_errors[0]
    assert result.verdict(strict=False) == "error"


def result_with(*outcomes: str, tested: bool = True, harness_errors: tuple[str, ...] = ()) -> ApiResult:
    cases = [CaseOutcome(MUST, outcome, 0 if outcome in ("skip", "error") else 1, "d") for outcome in outcomes]
    return ApiResult("itslearning", TARGET, cases, list(harness_errors), tested=tested)


@pytest.mark.parametrize(
    ("outcomes", "verdict", "strict_verdict"),
    [
        (["pass", "pass"], "conformant", "conformant"),
        (["pass", "skip"], "conformant", "conformant"),
        (["pass", "non-strict"], "conformant", "nonconformant"),
        (["pass", "fail"], "nonconformant", "nonconformant"),
        (["fail", "error"], "nonconformant", "nonconformant"),  # a failure wins over an error
        (["pass", "error"], "error", "error"),
        (["non-strict", "error"], "error", "nonconformant"),
        (["skip", "skip"], "error", "error"),  # nothing was judged
        ([], "error", "error"),
    ],
)
def test_verdict_rules(outcomes: list[str], verdict: str, strict_verdict: str) -> None:
    result = result_with(*outcomes)
    assert result.verdict(strict=False) == verdict
    assert result.verdict(strict=True) == strict_verdict


def test_a_harness_error_makes_an_otherwise_conformant_api_error() -> None:
    assert result_with("pass", harness_errors=("boom",)).verdict(strict=False) == "error"


def test_an_api_that_was_not_tested_is_skipped_with_every_case_skip() -> None:
    result = skipped_api(CATALOGUE, TARGET, "not in this run")
    assert result.verdict(strict=True) == "skipped"
    assert [(item.outcome, item.checked, item.details) for item in result.cases] == [("skip", 0, "not in this run")] * 3


def test_counts_cover_every_outcome() -> None:
    counts = result_with("pass", "pass", "fail", "skip").counts()
    assert list(counts) == list(OUTCOMES)
    assert counts == {"pass": 2, "fail": 1, "non-strict": 0, "skip": 1, "error": 0}


def report_of(*results: ApiResult, strict: bool = False) -> RunReport:
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    return RunReport("live", strict, 1, 3, now, now, list(results))


@pytest.mark.parametrize(
    ("apis", "strict", "status"),
    [
        ([["pass"]], False, 0),
        ([["pass", "non-strict"]], False, 0),
        ([["pass", "non-strict"]], True, 1),
        ([["pass", "fail"]], False, 1),
        ([["pass", "error"]], False, 2),
        ([["pass", "fail"], ["pass", "error"]], False, 1),  # 1 wins over 2
        ([["pass"], ["skip"]], False, 2),  # an API that judged nothing cannot be called conformant
        ([], False, 2),
    ],
)
def test_exit_status(apis: list[list[str]], strict: bool, status: int) -> None:
    assert exit_status(report_of(*(result_with(*outcomes) for outcomes in apis), strict=strict)) == status


def test_read_events_skips_blank_lines_and_a_missing_file_means_none(tmp_path: Path) -> None:
    assert read_events(tmp_path / "absent.jsonl") == []
    path = tmp_path / "events.jsonl"
    events = [judged(MUST, passed=1), harness("x")]
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n\n", encoding="utf-8")
    assert read_events(path) == events


def test_events_survive_line_separators_inside_their_text(tmp_path):
    # A vendor's answer quoted in a failure may hold U+2028 or U+0085; the events file is
    # JSON lines split on "\n" only, so reading it back must not break there.
    import json

    from msgconform.outcomes import read_events

    path = tmp_path / "events.jsonl"
    event = {"kind": "harness", "api": "itslearning", "test": "t", "details": "a\u2028b\x85c"}
    path.write_text(json.dumps(event, ensure_ascii=False) + "\n", encoding="utf-8")
    assert read_events(path) == [event]


def test_a_stopped_api_has_its_unjudged_cases_error_with_the_reason_first():
    from msgconform import catalogue
    from msgconform.outcomes import fold

    cat = catalogue.load("itslearning")
    judged, other = cat.cases[0].id, cat.cases[1].id
    reason = "stopped after 5 transport failures in a row (time-outs, resets or over-size answers); the last: x"
    events = [
        {"kind": "judgement", "api": "itslearning", "case": judged, "test": "t", "passed": 2, "failed": 0,
         "skipped": [], "failure": ""},
        {"kind": "judgement", "api": "itslearning", "case": other, "test": "t", "passed": 0, "failed": 0,
         "skipped": ["not applicable here"], "failure": ""},
        {"kind": "harness", "api": "itslearning", "test": "t", "details": "t: GET /x: no answer"},
        {"kind": "stopped", "api": "itslearning", "test": "t", "details": reason},
    ]
    result = fold(cat, "http://127.0.0.1:1", events)
    by_id = {item.case.id: item for item in result.cases}
    assert by_id[judged].outcome == "pass"
    assert by_id[other].outcome == "error" and by_id[other].details == f"not judged: {reason}"
    assert result.harness_errors[0] == reason
    assert result.verdict(False) == "error"


def test_a_torn_last_event_of_a_killed_suite_is_dropped_and_the_rest_kept(tmp_path):
    import json

    from msgconform.outcomes import read_events

    path = tmp_path / "events.jsonl"
    whole = {"kind": "harness", "api": "itslearning", "test": "t", "details": "whole"}
    path.write_bytes(json.dumps(whole).encode() + b"\n" + b'{"kind": "judgement", "api": "its\xc3')
    assert read_events(path) == [whole]
