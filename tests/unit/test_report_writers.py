"""The report writers on hand-built RunReports: conformance.json (contracts.md section 3),
junit.xml (section 4), conformance.md and the summary lines (section 1).

One report holds one case of every outcome, so every branch of every writer is exercised;
the real itslearning catalogue is used too, so the schema is tried on real ids and quotes.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

import msgconform
from msgconform import catalogue
from msgconform.catalogue import Case
from msgconform.outcomes import ApiResult, CaseOutcome, skipped_api
from msgconform.report import (
    SCHEMA_PATH,
    RunReport,
    summary_lines,
    to_document,
    write_conformance_json,
    write_junit,
    write_markdown,
)
from msgconform.report import _model

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SUMMARY = re.compile(
    r"^[a-z]+: (conformant|nonconformant|error|skipped) "
    r"\(\d+ pass, \d+ fail, \d+ non-strict, \d+ skip, \d+ error\)$"
)
STARTED = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone(timedelta(hours=2)))
TARGET = "http://127.0.0.1:8101"


def case(n: int, level: str, quote: str = "") -> Case:
    return Case(f"ITS-TEST-{n:03d}", level, "send", f"case {n} | with a pipe", "000_e9838e8fd156fcdc.txt",
                "what is expected", quote=quote or ("A quoted sentence." if level == "MUST" else ""))


OUTCOMES = [
    CaseOutcome(case(1, "MUST"), "pass", 12),
    CaseOutcome(case(2, "MUST"), "fail", 3, "201 expected, got 200 (POST /restapi/personal/messages/send/v1)"),
    CaseOutcome(case(3, "SHOULD"), "non-strict", 5, "422 for malformed input (POST /restapi/...)"),
    CaseOutcome(case(4, "SHOULD"), "skip", 0, "the target serves no XML"),
    CaseOutcome(case(5, "MUST"), "error", 0, "no check judged this case in this run"),
    CaseOutcome(case(6, "INFO"), "pass", 2, "schema-valid send answered 400"),
]


def report(strict: bool = False, results: list[ApiResult] | None = None) -> RunReport:
    if results is None:
        results = [ApiResult("itslearning", TARGET, copy.deepcopy(OUTCOMES))]
    return RunReport("live", strict, 20261122, 7, STARTED, STARTED + timedelta(seconds=62), results)


def schema_errors(document: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(document)]


# --- conformance.json ---------------------------------------------------------------------------


def test_the_shipped_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("strict", [False, True])
def test_conformance_json_is_valid_and_says_what_was_run(tmp_path: Path, strict: bool) -> None:
    path = write_conformance_json(report(strict), tmp_path)
    assert path == tmp_path / "conformance.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert schema_errors(doc) == []
    assert doc["format"] == 1 and doc["tool"] == "msgconform" and doc["version"] == msgconform.__version__
    assert (doc["mode"], doc["strict"], doc["seed"], doc["max_examples"]) == ("live", strict, 20261122, 7)
    assert (doc["started"], doc["finished"]) == ("2026-11-22T10:00:00Z", "2026-11-22T10:01:02Z")  # in UTC
    assert doc["totals"] == {"pass": 2, "fail": 1, "non-strict": 1, "skip": 1, "error": 1}
    api = doc["apis"]["itslearning"]
    assert (api["target"], api["verdict"]) == (TARGET, "nonconformant")
    assert [c["id"] for c in api["cases"]] == [item.case.id for item in OUTCOMES]
    first = api["cases"][1]
    assert first == {
        "id": "ITS-TEST-002", "level": "MUST", "outcome": "fail", "title": "case 2 | with a pipe",
        "source": "000_e9838e8fd156fcdc.txt", "quote": "A quoted sentence.", "checked": 3,
        "details": "201 expected, got 200 (POST /restapi/personal/messages/send/v1)",
    }


def test_conformance_json_verdicts_follow_strict() -> None:
    results = [ApiResult("itslearning", TARGET, [CaseOutcome(case(1, "MUST"), "pass", 1),
                                                 CaseOutcome(case(3, "SHOULD"), "non-strict", 1, "x")])]
    assert to_document(report(False, results))["apis"]["itslearning"]["verdict"] == "conformant"
    assert to_document(report(True, results))["apis"]["itslearning"]["verdict"] == "nonconformant"


def test_conformance_json_over_the_real_catalogue_and_a_skipped_api_is_valid() -> None:
    its = catalogue.load("itslearning")
    results = [
        ApiResult("itslearning", TARGET, [CaseOutcome(c, "pass", 1, "seen" if c.level == "INFO" else "")
                                          for c in its.cases]),
        skipped_api(its, TARGET, "not asked for"),  # (the same catalogue under a second name)
    ]
    results[1].api = "highq"
    doc = to_document(report(False, results))
    assert schema_errors(doc) == []
    assert doc["apis"]["highq"]["verdict"] == "skipped"
    assert doc["totals"]["pass"] == doc["totals"]["skip"] == len(its.cases)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda c: c.update(outcome="pass", checked=0), "a pass that judged nothing"),
        (lambda c: c.update(outcome="fail", level="SHOULD"), "a failing SHOULD case must be non-strict"),
        (lambda c: c.update(outcome="non-strict", level="MUST"), "non-strict is for SHOULD cases"),
        (lambda c: c.update(outcome="skip", details=""), "a skip without a reason"),
        (lambda c: c.update(level="MUST", quote=""), "a MUST case without its quote"),
        (lambda c: c.update(outcome="maybe"), "an unknown outcome"),
        (lambda c: c.pop("checked"), "a missing key"),
    ],
)
def test_the_schema_refuses_what_the_contract_forbids(change, why: str) -> None:
    doc = to_document(report())
    change(doc["apis"]["itslearning"]["cases"][0])
    assert schema_errors(doc) != [], why


def test_writing_is_atomic_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conformance.json").write_text("previous\n", encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_model.os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_conformance_json(report(), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["conformance.json"]
    assert (tmp_path / "conformance.json").read_text(encoding="utf-8") == "previous\n"  # untouched
    monkeypatch.undo()
    write_conformance_json(report(), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["conformance.json"]


def test_writers_create_the_report_folder(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    for write in (write_conformance_json, write_junit, write_markdown):
        write(report(), folder)
    assert sorted(p.name for p in folder.iterdir()) == ["conformance.json", "conformance.md", "junit.xml"]


# --- junit.xml ---------------------------------------------------------------------------------


def junit(tmp_path: Path, strict: bool) -> dict[str, ET.Element]:
    root = ET.parse(write_junit(report(strict), tmp_path)).getroot()
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "itslearning"
    return {t.get("name").split(":")[0]: t for t in suite.findall("testcase")} | {"suite": suite}


def children(testcase: ET.Element) -> list[str]:
    return [child.tag for child in testcase]


@pytest.mark.parametrize("strict", [False, True])
def test_junit_one_testcase_per_case_named_id_and_title(tmp_path: Path, strict: bool) -> None:
    cases = junit(tmp_path, strict)
    suite = cases.pop("suite")
    assert [(t.get("classname"), t.get("name")) for t in suite.findall("testcase")] == [
        ("itslearning", f"{item.case.id}: {item.case.title}") for item in OUTCOMES
    ]
    assert suite.get("tests") == "6" and suite.get("errors") == "1" and suite.get("skipped") == "1"
    assert suite.get("failures") == ("2" if strict else "1")


@pytest.mark.parametrize("strict", [False, True])
def test_junit_elements_follow_the_outcomes(tmp_path: Path, strict: bool) -> None:
    cases = junit(tmp_path, strict)
    assert children(cases["ITS-TEST-001"]) == []
    failure = cases["ITS-TEST-002"].find("failure")
    assert children(cases["ITS-TEST-002"]) == ["failure"] and failure.get("type") != "non-strict"
    assert "201 expected, got 200" in failure.text and "A quoted sentence." in failure.text
    assert children(cases["ITS-TEST-004"]) == ["skipped"]
    assert cases["ITS-TEST-004"].find("skipped").get("message") == "the target serves no XML"
    assert children(cases["ITS-TEST-005"]) == ["error"]
    assert "no check judged" in cases["ITS-TEST-005"].find("error").get("message")
    assert children(cases["ITS-TEST-006"]) == ["system-out"]  # INFO: a pass with its observation
    assert "schema-valid send answered 400" in cases["ITS-TEST-006"].find("system-out").text
    non_strict = cases["ITS-TEST-003"]
    if strict:
        assert children(non_strict) == ["failure"] and non_strict.find("failure").get("type") == "non-strict"
        assert "422 for malformed input" in non_strict.find("failure").text
    else:
        assert children(non_strict) == ["system-out"]
        assert "422 for malformed input" in non_strict.find("system-out").text


# --- conformance.md and the summary lines --------------------------------------------------------


def test_markdown_names_every_case_and_keeps_table_cells_intact(tmp_path: Path) -> None:
    text = write_markdown(report(), tmp_path).read_text(encoding="utf-8")
    assert text.startswith("# msgconform conformance matrix\n")
    assert "## itslearning — nonconformant" in text
    for item in OUTCOMES:
        row = next(line for line in text.splitlines() if line.startswith(f"| {item.case.id} |"))
        assert item.outcome in row
        assert "case {} \\| with a pipe".format(int(item.case.id[-3:])) in row  # a | in a title is escaped
    assert "| itslearning | **nonconformant** | 2 | 1 | 1 | 1 | 1 |" in text


def test_summary_line_format() -> None:
    (line,) = summary_lines(report())
    assert SUMMARY.match(line)
    assert line == "itslearning: nonconformant (2 pass, 1 fail, 1 non-strict, 1 skip, 1 error)"


def test_summary_one_line_per_api_in_order() -> None:
    its = catalogue.load("itslearning")
    good = ApiResult("itslearning", TARGET, [CaseOutcome(c, "pass", 1, "seen") for c in its.cases])
    other = skipped_api(its, TARGET, "not asked for")
    other.api = "highq"
    lines = summary_lines(report(False, [good, other]))
    assert all(SUMMARY.match(line) for line in lines)
    assert lines == [
        f"itslearning: conformant ({len(its.cases)} pass, 0 fail, 0 non-strict, 0 skip, 0 error)",
        f"highq: skipped (0 pass, 0 fail, 0 non-strict, {len(its.cases)} skip, 0 error)",
    ]


# --- an interrupted run (contracts.md section 3: "interrupted": true, absent otherwise) ---------


def test_an_interrupted_run_says_so_in_all_three_reports_and_the_summary(tmp_path: Path) -> None:
    interrupted = report()
    interrupted.interrupted = True
    document = to_document(interrupted)
    assert document["interrupted"] is True and not schema_errors(document)
    assert "interrupted" not in to_document(report())
    assert summary_lines(interrupted)[0].endswith(" 1 error; interrupted)")
    assert summary_lines(report())[0].endswith(" 1 error)")
    write_junit(interrupted, tmp_path)
    properties = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite/properties")
    assert {p.get("name"): p.get("value") for p in properties}["interrupted"] == "true"
    write_markdown(interrupted, tmp_path)
    assert "**Interrupted**" in (tmp_path / "conformance.md").read_text(encoding="utf-8")


def test_the_schema_refuses_interrupted_false() -> None:
    document = to_document(report())
    document["interrupted"] = False  # absent, not false, when the run was not interrupted
    assert schema_errors(document)
