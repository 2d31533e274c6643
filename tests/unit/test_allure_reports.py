"""Allure without a browser: evidence text and curl (redaction), the labels that trace a case
to its documents, one result per catalogued case, and the HTML builder's refusals.

The real run, the built report and the browser are in tests/integration/test_report_browser.py.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

from msgconform import catalogue, cli
from msgconform.cassettes import INVALID_TOKEN, PLACEHOLDER
from msgconform.catalogue import Case
from msgconform.evidence import BODY_LIMIT, HttpExchange, Scrubber
from msgconform.outcomes import ApiResult, CaseOutcome
from msgconform.report import RunReport, allure_html, allure_results
from msgconform.traceability import SEVERITY, case_labels, seed_url, source_links

REPO = Path(__file__).resolve().parents[2]
TOKEN = "canary-SECRET-7f3e"
URL = "http://127.0.0.1:8101/restapi/personal/messages/send/v1"


def exchange(**overrides) -> HttpExchange:
    values = dict(
        method="POST", url=URL + "?access_token=" + TOKEN + "&x=1",
        request_headers=[("Authorization", f"Bearer {TOKEN}"), ("X-Api-Key", "key-SECRET-1234"),
                         ("Content-Type", "application/json"), ("X-Schemathesis-TestCaseId", "abc")],
        request_body=json.dumps({"Password": "pw-SECRET-55", "Subject": "it's [msgconform]"}).encode(),
        status=500, response_headers=[("Set-Cookie", "session=cookie-SECRET-9"), ("Content-Type", "text/plain")],
        response_body=f"echo: Bearer {TOKEN}".encode(), role="sender", operation="send",
        credential_headers=("Authorization", "X-Api-Key"),
    )
    values.update(overrides)
    return HttpExchange(**values)


SCRUB = Scrubber([f"Bearer {TOKEN}", "key-SECRET-1234"])


def test_the_exchange_text_is_redacted_like_a_cassette_and_scrubbed_of_every_credential():
    text = exchange().text(SCRUB)
    assert "SECRET" not in text, text
    assert text.startswith("POST http://127.0.0.1:8101/restapi/personal/messages/send/v1?access_token=")
    assert f"Authorization: {PLACEHOLDER}" in text and f"X-Api-Key: {PLACEHOLDER}" in text
    assert f"Set-Cookie: {PLACEHOLDER}" in text
    assert "=> 500 Internal Server Error   (operation send, as sender)" in text
    assert "X-Schemathesis-TestCaseId" not in text  # volatile, as in cassettes
    assert "it's [msgconform]" in text


def test_the_suites_own_invalid_token_is_no_secret_and_stays_visible():
    text = exchange(request_headers=[("Authorization", f"Bearer {INVALID_TOKEN}")]).text(SCRUB)
    assert f"Authorization: Bearer {INVALID_TOKEN}" in text


def test_a_curl_command_repeats_the_request_with_secrets_as_variables():
    curl = exchange().curl(SCRUB)
    assert "SECRET" not in curl, curl
    assert 'export MSGCONFORM_SENDER_AUTHORIZATION="<the sender\'s Authorization header>"' in curl
    assert '-H "Authorization: $MSGCONFORM_SENDER_AUTHORIZATION"' in curl
    assert '-H "X-Api-Key: $MSGCONFORM_SENDER_X_API_KEY"' in curl
    assert "curl -i -X POST 'http://127.0.0.1:8101/restapi/personal/messages/send/v1?access_token=" in curl
    assert f"Replace {PLACEHOLDER}" in curl  # the password in the body and the query token
    assert "X-Schemathesis-TestCaseId" not in curl and "Content-Length" not in curl


def test_long_bodies_are_cut():
    text = exchange(response_body=b"x" * (BODY_LIMIT + 10)).text()
    assert "[... 10 more characters not shown]" in text


def test_a_case_is_traced_to_its_seed_document_and_level(monkeypatch):
    monkeypatch.delenv("MSGCONFORM_SOURCES_URL", raising=False)
    send = catalogue.load("itslearning")["ITS-SEND-001"]
    labels = dict(case_labels("itslearning", send))
    assert labels == {"epic": "itslearning", "feature": send.operation, "story": send.title, "case": "ITS-SEND-001",
                      "level": "MUST", "severity": "critical", "tag": "MUST"}
    assert SEVERITY == {"MUST": "critical", "SHOULD": "normal", "INFO": "minor"}
    [link] = source_links(send)
    assert link["name"] == "specs/sources/000_e9838e8fd156fcdc.txt"
    assert link["url"].startswith("file://") and Path(link["url"][7:]).is_file()


def test_rfc_sources_link_to_the_rfc_and_the_seed_link_can_point_at_the_repository(monkeypatch):
    case = Case("ITS-X-001", "SHOULD", "send", "t", "RFC 9110, section 15.5.1 (400 Bad Request)", "e")
    assert source_links(case) == [{"type": "link", "name": "RFC 9110", "url": "https://www.rfc-editor.org/rfc/rfc9110"}]
    monkeypatch.setenv("MSGCONFORM_SOURCES_URL", "https://git.example/msgconform/blob/main/specs/sources/")
    assert seed_url("000_e9838e8fd156fcdc.txt") == "https://git.example/msgconform/blob/main/specs/sources/000_e9838e8fd156fcdc.txt"


# --- one Allure result per catalogued case ------------------------------------------------------

def _report() -> RunReport:
    cases = {c.id: c for c in catalogue.load("itslearning").cases}
    outcomes = [
        CaseOutcome(cases["ITS-SEND-001"], "fail", 3, "send succeeded with 200, not 201 Created (POST /x)"),
        CaseOutcome(cases["ITS-SEND-002"], "pass", 7),
        CaseOutcome(next(c for c in cases.values() if c.level == "SHOULD"), "non-strict", 2, "answered 500"),
        CaseOutcome(next(c for c in cases.values() if c.level == "INFO"), "pass", 1, "seen: 400"),
        CaseOutcome(cases["ITS-READ-001"], "skip", 0, "not applicable"),
        CaseOutcome(cases["ITS-READ-002"], "error", 0, "not judged: the suite failed (GET /x: no answer (ConnectError))"),
    ]
    moment = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    return RunReport(mode="live", strict=False, seed=1, max_examples=3, started=moment, finished=moment,
                     apis=[ApiResult(api="itslearning", target="http://127.0.0.1:8101", cases=outcomes)])


def test_every_catalogued_case_gets_one_result_with_its_outcome_quote_link_and_evidence(tmp_path):
    failing = exchange()
    evidence = [{"api": "itslearning", "case": "ITS-SEND-001", "ok": False, "judgement": "200, not 201",
                 "test": "t", "title": failing.title, "exchange": failing.text(SCRUB), "curl": failing.curl(SCRUB)}]
    report = _report()
    assert allure_results.write_allure_results(report, tmp_path, evidence) == 6
    results = {r["labels"][3]["value"]: r for r in map(_json, tmp_path.glob("*-result.json"))}
    assert {case_id: r["status"] for case_id, r in results.items()} == {
        "ITS-SEND-001": "failed", "ITS-SEND-002": "passed", report.apis[0].cases[2].case.id: "failed",
        report.apis[0].cases[3].case.id: "passed", "ITS-READ-001": "skipped", "ITS-READ-002": "broken"}
    send = results["ITS-SEND-001"]
    assert send["name"].startswith("ITS-SEND-001: ")
    assert send["statusDetails"]["message"] == "MUST fail: send succeeded with 200, not 201 Created (POST /x)"
    assert send["description"].startswith("> If ok, will return created")
    assert send["links"][0]["name"] == "specs/sources/000_e9838e8fd156fcdc.txt"
    names = [a["name"] for a in send["attachments"]]
    assert names == ["FAILED: POST /restapi/personal/messages/send/v1 -> 500",
                     "curl: POST /restapi/personal/messages/send/v1 -> 500",
                     "seed document specs/sources/000_e9838e8fd156fcdc.txt"]
    for attachment in send["attachments"]:
        assert (tmp_path / attachment["source"]).is_file()
    should = results[report.apis[0].cases[2].case.id]
    assert ("level", "SHOULD") in {(label["name"], label["value"]) for label in should["labels"]}
    assert len({r["historyId"] for r in results.values()}) == 6


def test_the_matrix_is_a_global_attachment_that_counts_catalogued_cases(tmp_path):
    allure_results.write_allure_results(_report(), tmp_path, [])
    [globals_file] = tmp_path.glob("*-globals.json")
    [attachment] = _json(globals_file)["attachments"]
    assert attachment["name"] == allure_results.MATRIX_NAME and attachment["type"] == "text/markdown"
    matrix = (tmp_path / attachment["source"]).read_text(encoding="utf-8")
    assert "Counts are catalogued cases." in matrix and "| ITS-SEND-001 | MUST |" in matrix


def test_the_results_folder_is_emptied_at_the_start_of_a_run_but_keeps_the_history(tmp_path):
    (tmp_path / "allure-results" / "history").mkdir(parents=True)
    (tmp_path / "allure-results" / "old-result.json").write_text("{}")
    (tmp_path / "allure-results" / "history" / "history.jsonl").write_text("{}\n")
    folder = allure_results.fresh_results_dir(tmp_path)
    assert folder == tmp_path / "allure-results"
    assert [p.name for p in folder.iterdir()] == ["history"]
    assert (tmp_path / allure_html.HISTORY).read_text() == "{}\n"


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# --- the HTML builder -------------------------------------------------------------------------

def test_the_pinned_allure_version_is_the_one_msgconform_names():
    package = _json(REPO / "package.json")
    lock = _json(REPO / "package-lock.json")
    assert package["devDependencies"] == {"allure": allure_html.ALLURE_VERSION}  # exact, no range
    assert lock["packages"]["node_modules/allure"]["version"] == allure_html.ALLURE_VERSION


def test_the_configuration_names_the_five_categories():
    config = allure_html.CONFIG.read_text(encoding="utf-8")
    names = re.findall(r'name: "([^"]+)"', config)
    assert names == ["Waived by the baseline (known deviation)", "Nonconformance (MUST)", "Non-strict (SHOULD)", "Target unreachable",
                     "Harness error (the suite could not judge)"]
    assert "export default {" in config and "historyPath" in config and "singleFile" in config


# The end of a page as Allure 3.18 writes it (the ids shortened)
ALLURE_PAGE_END = """    <script   src="app-b332.js"></script>
    <script async src="https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0"></script>
    <script>
        window.dataLayer = window.dataLayer || [];
        function gtag(){dataLayer.push(arguments);}
        gtag('js', new Date());
        gtag('config', 'G-LNDJ3J7WT0', {
          "report": "awesome",
          "reportUuid": "b37983dc-caa6-4609-bb86-3ec033d8ef65",
          "single_file": "false"
        });
    </script>
    \n      <script async>
        window.allureReportDataReady = true;
      </script>
</body>
</html>
"""


def test_the_analytics_tag_is_removed_and_nothing_else(tmp_path):
    page = tmp_path / "index.html"
    page.write_text(ALLURE_PAGE_END, encoding="utf-8")
    allure_html.without_analytics(page)
    text = page.read_text(encoding="utf-8")
    assert "googletagmanager" not in text and "gtag" not in text and "reportUuid" not in text
    assert text.startswith('    <script   src="app-b332.js"></script>\n')
    assert "window.allureReportDataReady = true;" in text and text.endswith("</html>\n")
    allure_html.without_analytics(page)  # a page without the tag stays as it is
    assert page.read_text(encoding="utf-8") == text


def test_without_node_one_line_says_what_to_install(monkeypatch):
    monkeypatch.setattr(allure_html.shutil, "which", lambda name: None)
    line = allure_html.missing()
    assert line is not None and "\n" not in line
    assert "Node.js" in line and "npm" in line and "msgconform report" in line


def test_without_the_npm_package_one_line_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no node_modules here, and (as from a wheel) no checkout
    monkeypatch.setattr(allure_html, "_CHECKOUT", None)
    monkeypatch.setattr(allure_html.shutil, "which", lambda name: "/usr/bin/node")
    line = allure_html.missing()
    assert line is not None and "\n" not in line
    assert f"npm install allure@{allure_html.ALLURE_VERSION}" in line and "Node.js" not in line


def test_report_without_results_is_one_line_and_status_2(tmp_path, capsys):
    assert cli.main(["report", "--report-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no Allure results" in err and "msgconform run" in err
