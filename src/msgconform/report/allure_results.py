"""Allure results for the catalogued cases, next to the ones the suite's tests wrote.

The suite (pytest with allure-pytest and `msgconform.plugin.allure_results`) writes one
Allure result per pytest test and per Schemathesis operation. Here, after the run, each
catalogued case gets one result of its own from its folded outcome, so the Allure tree
shows every case, also the ones no test reached:

- name `ID: title`; labels epic = API, feature = operation, story = title, `case`,
  `level`, severity (MUST critical, SHOULD normal, INFO minor) — see `msgconform.traceability`;
- status: pass -> passed, fail and non-strict -> failed (the `level` label tells the
  categories apart), skip -> skipped, error -> broken; the details are the message;
- the description: the quote, what is expected, the source; a link to the seed
  document, and the document itself as an attachment;
- the exchanges the suite kept as evidence (`--msgconform-evidence`: the first failure
  with its curl command, and a couple of passing ones), already redacted by the suite,
  each followed by what else its judgement rested on (`attachments`: the delivered
  messages a SuperOffice delivery case judged, redacted by the suite too).

The conformance matrix (`conformance.md`, catalogued cases) goes in as a global attachment:
Allure 3 shows it on the report's first page under "Global Attachments", and it counts
as no test. The Allure report therefore counts Allure results (tests, operations and
cases); the matrix and junit.xml count catalogued cases only.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from pathlib import Path

from msgconform import _resources
from msgconform.outcomes import CaseOutcome, read_json_lines
from msgconform.report._model import RunReport
from msgconform.report.markdown import render_markdown
from msgconform.traceability import case_labels, seed_document, source_links

RESULTS_DIR = "allure-results"
HISTORY_DIR = "history"  # inside RESULTS_DIR, kept across runs (Allure reads only the files at the top)
MATRIX_NAME = "Conformance matrix (counts catalogued cases)"
_STATUS = {
    "pass": "passed",
    "fail": "failed",
    "non-strict": "failed",
    "skip": "skipped",
    "error": "broken",
    "waived": "skipped",
}  # waived: its own category (allurerc.mjs), by the message "waived: ..."


def fresh_results_dir(report_dir: Path) -> Path:
    """`<report-dir>/allure-results`, emptied but for `history/` (a run's results never mix
    with the last run's; the history of the HTML report stays)."""
    folder = report_dir / RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.iterdir():
        if path.name == HISTORY_DIR and path.is_dir():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return folder


def read_evidence(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return read_json_lines(path)  # "\n" only, and a torn last line dropped (see there)


def write_allure_results(report: RunReport, results_dir: Path, evidence: list[dict]) -> int:
    """One result per catalogued case, and the matrix; returns how many results were written."""
    results_dir.mkdir(parents=True, exist_ok=True)
    writer = _Writer(results_dir)
    start = stop = int(report.finished.timestamp() * 1000)  # a case has no duration of its own
    by_case: dict[tuple[str, str], list[dict]] = {}
    for record in evidence:
        by_case.setdefault((record["api"], record["case"]), []).append(record)
    count = 0
    for result in report.apis:
        for item in result.cases:
            writer.result(
                _case_result(
                    writer, result.api, item, by_case.get((result.api, item.case.id), []), start, stop, report.strict
                )
            )
            count += 1
    writer.global_attachment(MATRIX_NAME, render_markdown(report), "text/markdown", ".md")
    return count


def _case_result(
    writer: _Writer, api: str, item: CaseOutcome, evidence: list[dict], start: int, stop: int, strict: bool
) -> dict:
    case = item.case
    full_name = f"msgconform.{api}.{case.id}"
    attachments = []
    for record in evidence:
        verdict = "passed" if record["ok"] else "FAILED"
        if record.get("exchange"):
            attachments.append(writer.attachment(f"{verdict}: {record['title']}", record["exchange"]))
        if record.get("curl"):
            attachments.append(writer.attachment(f"curl: {record['title']}", record["curl"]))
        for subject in record.get("attachments") or []:
            attachments.append(writer.attachment(f"{verdict}: {subject['name']}", subject["text"]))
    seed = seed_document(case)
    if seed is not None:
        attachments.append(writer.seed_attachment(seed))
    outcome = item.outcome + (" (fails the run: --strict)" if item.outcome == "non-strict" and strict else "")
    result = {
        "uuid": str(uuid.uuid4()),
        "historyId": _md5(full_name),
        "testCaseId": _md5(full_name),
        "fullName": full_name,
        "name": f"{case.id}: {case.title}",
        "status": _STATUS[item.outcome],
        "stage": "finished",
        "description": _description(item, outcome),
        "labels": [{"name": n, "value": v} for n, v in case_labels(api, case)]
        + [
            {"name": "parentSuite", "value": api},
            {"name": "suite", "value": "catalogued cases"},
            {"name": "subSuite", "value": case.operation},
        ],
        "links": source_links(case),
        "parameters": [],
        "attachments": attachments,
        "steps": [],
        "start": start,
        "stop": stop,
    }
    if item.waived is not None:
        result["statusDetails"] = {
            "message": f"waived: {item.waived.reason}",
            "trace": f"{case.level} {item.waived.observed}: {item.details}",
        }
    elif item.outcome != "pass" or item.details:
        result["statusDetails"] = {
            "message": f"{case.level} {outcome}: {item.details}" if item.details else f"{case.level} {outcome}"
        }
    return result


def _description(item: CaseOutcome, outcome: str) -> str:
    case = item.case
    lines = []
    if case.quote:
        lines += [f"> {case.quote}", ""]
    lines += [
        f"**{case.level}** — {case.expect}",
        "",
        f"Source: {case.source}",
        "",
        f"Outcome: **{outcome}**, judged {item.checked} time(s) in this run.",
    ]
    if item.waived is not None:
        waiver = item.waived
        lines += [
            "",
            f"Waived by the baseline: {waiver.reason}",
            f"(observed: {waiver.observed}; expires: {waiver.expires or 'never'}; ticket: {waiver.ticket or 'none'})",
        ]
    if item.details:
        lines += ["", f"Details: {item.details}"]
    return "\n".join(lines)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


class _Writer:
    """Writes Allure 2-format files (which Allure 3 reads): results, attachments, globals."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def result(self, result: dict) -> None:
        self._write(f"{uuid.uuid4()}-result.json", json.dumps(result, ensure_ascii=False))

    def attachment(self, name: str, text: str, mime: str = "text/plain", suffix: str = ".txt") -> dict:
        source = f"{uuid.uuid4()}-attachment{suffix}"
        self._write(source, text)
        return {"name": name, "source": source, "type": mime}

    def seed_attachment(self, file: str) -> dict:
        # A copy per result: Allure 3 shows an attachment file with one result only.
        text = (_resources.sources_dir() / file).read_text(encoding="utf-8")
        return self.attachment(f"seed document specs/sources/{file}", text)

    def global_attachment(self, name: str, text: str, mime: str, suffix: str) -> None:
        attachment = self.attachment(name, text, mime, suffix)
        attachment["timestamp"] = int(time.time() * 1000)
        self._write(f"{uuid.uuid4()}-globals.json", json.dumps({"attachments": [attachment], "errors": []}))

    def _write(self, name: str, text: str) -> None:
        (self.folder / name).write_text(text, encoding="utf-8")
