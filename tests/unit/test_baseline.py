"""Baselines (contracts.md section 5): the file and its refusals, waiving failures, what
becomes of each entry (stale, not judged, expired), every writer, and writing a baseline
with `msgconform baseline` (comments kept on --update).

Everything runs on hand-built outcomes over the real catalogues; the same rules through
the command line against a reference server with a fault are in
tests/integration/test_baseline_cli.py.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from msgconform import baseline, catalogue
from msgconform.baseline import BaselineError
from msgconform.outcomes import ApiResult, CaseOutcome, skipped_api
from msgconform.report import SCHEMA_PATH, RunReport, summary_lines, to_document, write_junit
from msgconform.report import allure_results
from msgconform.report.markdown import render_markdown

VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
TODAY = date(2026, 12, 1)
STARTED = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
ITS = catalogue.load("itslearning")
HQ = catalogue.load("highq")

GOOD = """\
# msgconform baseline
# kept: a comment at the top

# Dates in local time: the vendor knows
[[known]]
api = "itslearning"
case = "ITS-GET-004"                 # a case id
reason = "Dates come in local time; vendor ticket 1234"
expires = 2027-03-31
ticket = "https://tracker.example/1234"

# every XML case: mended since
[[known]]
api = "itslearning"
case = "ITS-XML-*"
reason = "XML was broken"

[[known]]
api = "highq"
case = "HQ-CONV-001"
reason = "HighQ was not tested"
"""


def results(outcomes: dict[str, str], api: str = "itslearning") -> ApiResult:
    """Every case of `api` passes but those named, which get the outcome given."""
    cat = catalogue.load(api)
    cases = []
    for case in cat.cases:
        outcome = outcomes.get(case.id, "pass")
        details = "" if outcome == "pass" else f"{outcome}: what was seen (GET /x)"
        cases.append(CaseOutcome(case, outcome, 0 if outcome in ("skip", "error") else 3, details))
    return ApiResult(api, "http://127.0.0.1:8101", cases)


def run_report(apis: list[ApiResult], block=None, strict: bool = False) -> RunReport:
    return RunReport("live", strict, 20261122, 5, STARTED, STARTED + timedelta(seconds=3), apis, baseline=block)


# --- the file ----------------------------------------------------------------------------------


def test_a_good_file_reads_with_every_key_and_globs_resolved():
    known = baseline.parse(GOOD, "b.toml")
    first, xml, hq = known.entries
    assert (first.number, first.api, first.case, first.expires, first.ticket) == (
        1, "itslearning", "ITS-GET-004", date(2027, 3, 31), "https://tracker.example/1234")
    assert first.covers == {"ITS-GET-004"}
    assert xml.covers == {i for i in ITS.ids if i.startswith("ITS-XML-")} and xml.expires is None
    assert hq.covers == {"HQ-CONV-001"} and hq.ticket is None


ENTRY = '[[known]]\napi = "itslearning"\ncase = "ITS-GET-004"\nreason = "r"\n'


@pytest.mark.parametrize("text, message", [
    ('[[known]]\napi = "moodle"\ncase = "X"\nreason = "r"\n',
     "b.toml: [[known]] entry 1: api: 'moodle' has no case catalogue"),
    (ENTRY + '[[known]]\napi = "itslearning"\ncase = "ITS-GET-099"\nreason = "r"\n',
     "b.toml: [[known]] entry 2: case: 'ITS-GET-099' is not a case id of the itslearning catalogue"),
    ('[[known]]\napi = "highq"\ncase = "ITS-GET-004"\nreason = "r"\n',
     "b.toml: [[known]] entry 1: case: 'ITS-GET-004' is not a case id of the highq catalogue"),
    ('[[known]]\napi = "itslearning"\ncase = "ITS-NOPE-*"\nreason = "r"\n',
     "b.toml: [[known]] entry 1: case: 'ITS-NOPE-*' glob matches no case id of the itslearning catalogue"),
    ('[[known]]\napi = "itslearning"\ncase = "ITS-GET-004"\n', "b.toml: [[known]] entry 1: reason: missing"),
    ('[[known]]\napi = "itslearning"\ncase = "ITS-GET-004"\nreason = "  "\n',
     "b.toml: [[known]] entry 1: reason: must say why"),
    ('[[known]]\ncase = "ITS-GET-004"\nreason = "r"\n', "b.toml: [[known]] entry 1: api: missing"),
    (ENTRY + 'expire = 2027-01-01\n', "b.toml: [[known]] entry 1: expire: unknown key"),
    ('[[knwon]]\napi = "itslearning"\n', "b.toml: knwon: unknown key"),
    (ENTRY + 'expires = "2027-01-01"\n', "b.toml: [[known]] entry 1: expires: must be a TOML date"),
    (ENTRY + 'expires = 2027-01-01T10:00:00Z\n', "b.toml: [[known]] entry 1: expires: must be a TOML date"),
    (ENTRY + 'expires = 2027-02-30\n', "b.toml: not a valid TOML file"),
    (ENTRY + 'ticket = 1234\n', "b.toml: [[known]] entry 1: ticket: "),
    ('[[known]\n', "b.toml: not a valid TOML file"),
])
def test_a_bad_file_is_refused_in_one_line_naming_the_entry_and_the_key(text, message):
    with pytest.raises(BaselineError) as refused:
        baseline.parse(text, "b.toml")
    line = str(refused.value)
    assert line.startswith(message), line
    assert "\n" not in line and refused.value.exit_status == 2


def test_a_missing_file_is_refused_in_one_line(tmp_path):
    with pytest.raises(BaselineError, match=r"nothere\.toml: no such baseline file$"):
        baseline.load(tmp_path / "nothere.toml")


def test_an_empty_file_is_an_empty_baseline():
    assert baseline.parse("# nothing known yet\n", "b.toml").entries == ()


# --- applying it ---------------------------------------------------------------------------------


def test_a_covered_failure_is_waived_with_the_entry_and_the_verdict_ignores_it():
    known = baseline.parse(GOOD, "b.toml")
    [its], block = baseline.apply(known, [results({"ITS-GET-004": "fail"})], TODAY)
    item = next(i for i in its.cases if i.case.id == "ITS-GET-004")
    assert item.outcome == "waived" and item.details == "fail: what was seen (GET /x)"
    assert (item.waived.reason, item.waived.expires, item.waived.ticket, item.waived.observed) == (
        "Dates come in local time; vendor ticket 1234", date(2027, 3, 31), "https://tracker.example/1234", "fail")
    assert its.verdict(strict=True) == "conformant"
    assert its.counts()["waived"] == 1


def test_a_should_failure_is_waived_too_and_uncovered_failures_stay():
    text = '[[known]]\napi = "itslearning"\ncase = "ITS-HTTP-*"\nreason = "r"\n'
    [its], _ = baseline.apply(baseline.parse(text, "b.toml"),
                              [results({"ITS-HTTP-002": "non-strict", "ITS-SEND-001": "fail"})], TODAY)
    by_id = {i.case.id: i for i in its.cases}
    assert by_id["ITS-HTTP-002"].outcome == "waived" and by_id["ITS-HTTP-002"].waived.observed == "non-strict"
    assert by_id["ITS-SEND-001"].outcome == "fail" and by_id["ITS-SEND-001"].waived is None
    assert its.verdict(strict=False) == "nonconformant"


@pytest.mark.parametrize("expires, expired", [(TODAY - timedelta(days=1), True), (TODAY, True),
                                              (TODAY + timedelta(days=1), False)])
def test_from_its_expiry_day_on_an_entry_waives_nothing_and_is_listed_expired(expires, expired):
    text = f'[[known]]\napi = "itslearning"\ncase = "ITS-GET-004"\nreason = "r"\nexpires = {expires.isoformat()}\n'
    [its], block = baseline.apply(baseline.parse(text, "b.toml"), [results({"ITS-GET-004": "fail"})], TODAY)
    item = next(i for i in its.cases if i.case.id == "ITS-GET-004")
    assert (item.outcome == "fail") is expired
    assert [e.number for e in block.expired] == ([1] if expired else [])
    assert its.verdict(strict=False) == ("nonconformant" if expired else "conformant")


def test_stale_not_judged_and_waiving_entries():
    known = baseline.parse(GOOD, "b.toml")
    # GET-004 fails (waiving), every XML case passed (stale), HighQ was not tested (not judged)
    _, block = baseline.apply(known, [results({"ITS-GET-004": "fail"}), skipped_api(HQ, "-", "not tested")], TODAY)
    assert [e.number for e in block.stale] == [2]
    assert [e.number for e in block.not_judged] == [3]
    assert block.expired == [] and block.entries == 3 and block.file == "b.toml"


@pytest.mark.parametrize("outcome", ["skip", "error"])
def test_an_entry_one_of_whose_cases_was_not_judged_is_never_stale(outcome):
    text = '[[known]]\napi = "itslearning"\ncase = "ITS-XML-*"\nreason = "r"\n'
    _, block = baseline.apply(baseline.parse(text, "b.toml"), [results({"ITS-XML-003": outcome})], TODAY)
    assert block.stale == [] and [e.number for e in block.not_judged] == [1]


def test_an_api_absent_from_the_run_leaves_its_entries_not_judged():
    text = '[[known]]\napi = "highq"\ncase = "HQ-CONV-001"\nreason = "r"\n'
    _, block = baseline.apply(baseline.parse(text, "b.toml"), [results({})], TODAY)
    assert [e.number for e in block.not_judged] == [1] and block.stale == []


def test_the_first_unexpired_entry_that_covers_a_case_gives_the_reason():
    text = ('[[known]]\napi = "itslearning"\ncase = "ITS-GET-004"\nreason = "old"\nexpires = 2020-01-01\n'
            '[[known]]\napi = "itslearning"\ncase = "ITS-GET-*"\nreason = "all gets"\n')
    [its], _ = baseline.apply(baseline.parse(text, "b.toml"), [results({"ITS-GET-004": "fail"})], TODAY)
    assert next(i for i in its.cases if i.case.id == "ITS-GET-004").waived.reason == "all gets"


# --- the writers -------------------------------------------------------------------------------------


def _waived_report(strict: bool = False) -> RunReport:
    known = baseline.parse(GOOD, "b.toml")
    apis, block = baseline.apply(known, [results({"ITS-GET-004": "fail", "ITS-HTTP-002": "non-strict"})], TODAY)
    return run_report(apis, block, strict)


def test_conformance_json_with_a_baseline_is_valid_and_carries_waived_objects_totals_and_the_block():
    document = to_document(_waived_report())
    assert not list(VALIDATOR.iter_errors(document))
    cases = {c["id"]: c for c in document["apis"]["itslearning"]["cases"]}
    assert cases["ITS-GET-004"]["outcome"] == "waived"
    assert cases["ITS-GET-004"]["waived"] == {"reason": "Dates come in local time; vendor ticket 1234",
                                               "expires": "2027-03-31", "ticket": "https://tracker.example/1234",
                                               "observed": "fail"}
    assert cases["ITS-HTTP-002"]["outcome"] == "non-strict" and "waived" not in cases["ITS-HTTP-002"]
    assert document["totals"]["waived"] == 1
    assert document["apis"]["itslearning"]["verdict"] == "conformant"
    block = document["baseline"]
    assert block["file"] == "b.toml" and block["entries"] == 3 and block["expired"] == []
    assert [e["case"] for e in block["stale"]] == ["ITS-XML-*"]
    assert block["stale"][0] == {"entry": 2, "api": "itslearning", "case": "ITS-XML-*", "reason": "XML was broken",
                                 "expires": None, "ticket": None}
    assert [e["entry"] for e in block["not_judged"]] == [3]


def test_without_a_baseline_nothing_changes():
    document = to_document(run_report([results({"ITS-GET-004": "fail"})]))
    assert "baseline" not in document and "waived" not in document["totals"]
    assert all("waived" not in c for c in document["apis"]["itslearning"]["cases"])
    assert not list(VALIDATOR.iter_errors(document))
    assert summary_lines(run_report([results({})]))[0].endswith(" 0 error)")


def test_waived_objects_always_carry_all_four_keys_even_when_null():
    text = '[[known]]\napi = "itslearning"\ncase = "ITS-GET-004"\nreason = "r"\n'
    apis, block = baseline.apply(baseline.parse(text, "b.toml"), [results({"ITS-GET-004": "fail"})], TODAY)
    cases = to_document(run_report(apis, block))["apis"]["itslearning"]["cases"]
    case = next(c for c in cases if c["id"] == "ITS-GET-004")
    assert case["waived"] == {"reason": "r", "expires": None, "ticket": None, "observed": "fail"}
    assert to_document(run_report(apis, block))["totals"]["waived"] == 1


@pytest.mark.parametrize("change, why", [
    (lambda d: d["totals"].pop("waived"), "totals.waived missing with --baseline"),
    (lambda d: d.pop("baseline"), "totals.waived without --baseline"),
    (lambda d: d["apis"]["itslearning"]["cases"][_index(d, "ITS-GET-004")].pop("waived"), "waived without its object"),
    (lambda d: d["apis"]["itslearning"]["cases"][_index(d, "ITS-GET-004")]["waived"].pop("ticket"), "a key missing"),
    (lambda d: d["apis"]["itslearning"]["cases"][_index(d, "ITS-SEND-001")].update(
        waived={"reason": "r", "expires": None, "ticket": None, "observed": "fail"}), "a waived object on a pass"),
    (lambda d: d["baseline"]["stale"][0].pop("entry"), "an entry without its number"),
])
def test_the_schema_refuses_what_section_5_forbids(change, why):
    document = to_document(_waived_report())
    change(document)
    assert list(VALIDATOR.iter_errors(document)), why


def _index(document: dict, case_id: str) -> int:
    return [c["id"] for c in document["apis"]["itslearning"]["cases"]].index(case_id)


def test_the_summary_line_ends_with_the_waived_count():
    assert summary_lines(_waived_report()) == [
        f"itslearning: conformant ({len(ITS.ids) - 2} pass, 0 fail, 1 non-strict, 0 skip, 0 error, 1 waived)"]


@pytest.mark.parametrize("strict", [False, True])
def test_junit_marks_a_waived_case_skipped_with_the_reason(tmp_path, strict):
    write_junit(_waived_report(strict), tmp_path)
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    case = next(c for c in suite.iter("testcase") if c.get("name").startswith("ITS-GET-004: "))
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == "waived: Dates come in local time; vendor ticket 1234"
    assert case.find("failure") is None and case.find("error") is None
    assert suite.get("skipped") == "1" and suite.get("failures") == ("1" if strict else "0")


def test_the_matrix_marks_waived_cases_with_the_reason_and_lists_stale_and_expired_entries():
    text = render_markdown(_waived_report())
    row = next(line for line in text.splitlines() if line.startswith("| ITS-GET-004 |"))
    assert "🔕 waived" in row and "Dates come in local time; vendor ticket 1234" in row and "expires 2027-03-31" in row
    assert "| waived |" in text.splitlines()[4]
    section = text.split("## itslearning")[1]
    assert "Stale (every case it covers passed" in section and "entry 2: `ITS-XML-*`: XML was broken" in section
    assert "Not judged" not in section  # entry 3 is HighQ's, which was not run: listed at the top
    assert "- entry 3: highq `HQ-CONV-001`: HighQ was not tested" in text.split("## itslearning")[0]


def test_the_matrix_without_a_baseline_has_no_waived_column():
    assert "waived" not in render_markdown(run_report([results({"ITS-GET-004": "fail"})]))


def test_allure_gives_a_waived_case_its_own_message_and_the_reason_in_the_description(tmp_path):
    allure_results.write_allure_results(_waived_report(), tmp_path, [])
    found = [json.loads(p.read_text()) for p in tmp_path.glob("*-result.json")]
    result = next(r for r in found if r["name"].startswith("ITS-GET-004: "))
    assert result["status"] == "skipped"
    assert result["statusDetails"]["message"] == "waived: Dates come in local time; vendor ticket 1234"
    assert "Waived by the baseline: Dates come in local time; vendor ticket 1234" in result["description"]
    assert "(observed: fail; expires: 2027-03-31" in result["description"]


# --- writing one: msgconform baseline -------------------------------------------------------------------


def _document(outcomes: dict[str, str], known_text: str | None = None) -> dict:
    apis = [results(outcomes), skipped_api(HQ, "-", "not tested")]
    block = None
    if known_text is not None:
        apis, block = baseline.apply(baseline.parse(known_text, "b.toml"), apis, TODAY)
    return to_document(run_report(apis, block))


def test_a_new_baseline_has_one_entry_per_failing_case_with_reason_and_expiry():
    text = baseline.write_baseline(_document({"ITS-GET-004": "fail", "ITS-HTTP-002": "non-strict",
                                              "ITS-XML-003": "skip"}),
                                   reason="vendor ticket 99", expires=date(2027, 6, 30))
    known = baseline.parse(text, "new.toml")
    assert [(e.api, e.case, e.reason, e.expires) for e in known.entries] == [
        ("itslearning", "ITS-GET-004", "vendor ticket 99", date(2027, 6, 30)),
        ("itslearning", "ITS-HTTP-002", "vendor ticket 99", date(2027, 6, 30))]
    assert text.startswith("# msgconform baseline")
    assert f"# MUST fail: {ITS['ITS-GET-004'].title}" in text


def test_a_run_without_failures_gives_an_empty_baseline_without_needing_a_reason():
    assert baseline.parse(baseline.write_baseline(_document({})), "b.toml").entries == ()


def test_new_entries_need_a_reason():
    with pytest.raises(BaselineError, match=r"^2 failing case\(s\) have no baseline entry yet .*give --reason TEXT$"):
        baseline.write_baseline(_document({"ITS-GET-004": "fail", "ITS-SEND-001": "fail"}))


def test_update_keeps_comments_reasons_of_failing_and_not_judged_entries_drops_stale_and_adds_new(tmp_path):
    old = tmp_path / "b.toml"
    old.write_text(GOOD, encoding="utf-8")
    # the last run used the baseline: GET-004 waived, XML passed (stale), HighQ not tested; SEND-001 is new
    document = _document({"ITS-GET-004": "fail", "ITS-SEND-001": "fail"}, GOOD)
    text = baseline.write_baseline(document, update=old, reason="new deviation")
    known = baseline.parse(text, "b.toml")
    assert [(e.case, e.reason) for e in known.entries] == [
        ("ITS-GET-004", "Dates come in local time; vendor ticket 1234"), ("HQ-CONV-001", "HighQ was not tested"),
        ("ITS-SEND-001", "new deviation")]
    assert known.entries[0].ticket == "https://tracker.example/1234" and known.entries[0].expires == date(2027, 3, 31)
    for kept in ("# msgconform baseline", "# kept: a comment at the top", "# Dates in local time: the vendor knows",
                 'case = "ITS-GET-004"                 # a case id'):
        assert kept in text
    assert "every XML case" not in text and "ITS-XML-*" not in text  # the stale entry, with its comment
    assert text.startswith(GOOD.split("# every XML case")[0])  # what is kept is kept byte for byte


def test_update_with_a_bad_file_is_refused(tmp_path):
    old = tmp_path / "b.toml"
    old.write_text('[[known]]\napi = "itslearning"\ncase = "ITS-GET-004"\n', encoding="utf-8")
    with pytest.raises(BaselineError, match=r"b\.toml: \[\[known\]\] entry 1: reason: missing"):
        baseline.write_baseline(_document({}), update=old)


def test_the_last_report_is_read_or_refused_in_one_line(tmp_path):
    with pytest.raises(BaselineError, match="conformance.json: no such file; run `msgconform run"):
        baseline.read_report(tmp_path)
    (tmp_path / "conformance.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(BaselineError, match="not a readable conformance.json"):
        baseline.read_report(tmp_path)
