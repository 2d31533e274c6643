"""`conformance.json` (contracts.md section 3), validated against the schema that ships with it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from msgconform import __version__
from msgconform.report._model import RunReport, write_atomically

SCHEMA_PATH = Path(__file__).with_name("conformance.schema.json")


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_document(report: RunReport) -> dict:
    apis = {}
    for result in report.apis:
        apis[result.api] = {
            "target": result.target,
            "verdict": result.verdict(report.strict),
            "cases": [_case(item) for item in result.cases],
        }
    document = {
        "format": 1,
        "tool": "msgconform",
        "version": __version__,
        "mode": report.mode,
        "strict": report.strict,
        "seed": report.seed,
        "max_examples": report.max_examples,
        "started": _timestamp(report.started),
        "finished": _timestamp(report.finished),
        "apis": apis,
        "totals": report.totals(),
    }
    if report.interrupted:  # absent otherwise (contracts.md section 3)
        document["interrupted"] = True
    if report.baseline is not None:  # only with --baseline (contracts.md section 5)
        document["baseline"] = report.baseline.to_json()
    return document


def _case(item) -> dict:
    case = {
        "id": item.case.id,
        "level": item.case.level,
        "outcome": item.outcome,
        "title": item.case.title,
        "source": item.case.source,
        "quote": item.case.quote,
        "checked": item.checked,
        "details": item.details,
    }
    if item.waived is not None:
        w = item.waived
        case["waived"] = {
            "reason": w.reason,
            "expires": w.expires.isoformat() if w.expires else None,
            "ticket": w.ticket,
            "observed": w.observed,
        }
    return case


def write_conformance_json(report: RunReport, report_dir: Path) -> Path:
    path = report_dir / "conformance.json"
    write_atomically(path, json.dumps(to_document(report), indent=2, ensure_ascii=False) + "\n")
    return path
