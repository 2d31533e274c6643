"""`conformance.md`: the conformance matrix, one table per API, ready for a CI job summary.

It counts catalogued cases (as junit.xml does), not pytest tests.
"""

from __future__ import annotations

from pathlib import Path

from msgconform.report._model import RunReport, write_atomically

_MARK = {"pass": "✅ pass", "fail": "❌ fail", "non-strict": "⚠️ non-strict", "skip": "⏭️ skip", "error": "💥 error"}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown(report: RunReport) -> str:
    lines = ["# msgconform conformance matrix", ""]
    lines.append(
        f"Mode `{report.mode}`, seed `{report.seed}`, max examples `{report.max_examples}`"
        f"{', strict' if report.strict else ''}. Counts are catalogued cases."
    )
    if report.interrupted:
        lines += ["", "**Interrupted** (SIGINT or SIGTERM): these results cover what was judged before the run "
                      "was stopped; cases not judged yet are `error`."]
    lines.append("")
    lines.append("| API | verdict | pass | fail | non-strict | skip | error |")
    lines.append("|---|---|---|---|---|---|---|")
    for result in report.apis:
        c = result.counts()
        lines.append(
            f"| {result.api} | **{result.verdict(report.strict)}** | {c['pass']} | {c['fail']} "
            f"| {c['non-strict']} | {c['skip']} | {c['error']} |"
        )
    for result in report.apis:
        lines += ["", f"## {result.api} — {result.verdict(report.strict)}", "", f"Target: `{result.target}`", ""]
        lines.append("| case | level | outcome | checked | title | source and quote | details |")
        lines.append("|---|---|---|---|---|---|---|")
        for item in result.cases:
            case = item.case
            source = _cell(case.source) + (f': "{_cell(case.quote)}"' if case.quote else "")
            lines.append(
                f"| {case.id} | {case.level} | {_MARK[item.outcome]} | {item.checked} | {_cell(case.title)} "
                f"| {source} | {_cell(item.details)} |"
            )
        for error in result.harness_errors:
            lines.append(f"\nHarness error: {_cell(error)}")
    return "\n".join(lines) + "\n"


def write_markdown(report: RunReport, report_dir: Path) -> Path:
    path = report_dir / "conformance.md"
    write_atomically(path, render_markdown(report))
    return path
