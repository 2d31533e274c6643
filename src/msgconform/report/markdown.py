"""`conformance.md`: the conformance matrix, one table per API, ready for a CI job summary.

It counts catalogued cases (as junit.xml does), not pytest tests.
"""

from __future__ import annotations

from pathlib import Path

from msgconform.report._model import RunReport, write_atomically

_MARK = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "non-strict": "⚠️ non-strict",
    "skip": "⏭️ skip",
    "error": "💥 error",
    "waived": "🔕 waived",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown(report: RunReport) -> str:
    lines = ["# msgconform conformance matrix", ""]
    lines.append(
        f"Mode `{report.mode}`, seed `{report.seed}`, max examples `{report.max_examples}`"
        f"{', strict' if report.strict else ''}. Counts are catalogued cases."
    )
    if report.interrupted:
        lines += [
            "",
            "**Interrupted** (SIGINT or SIGTERM): these results cover what was judged before the run "
            "was stopped; cases not judged yet are `error`.",
        ]
    lines.append("")
    waivers = report.baseline is not None
    lines.append("| API | verdict | pass | fail | non-strict | skip | error |" + (" waived |" if waivers else ""))
    lines.append("|---|---|---|---|---|---|---|" + ("---|" if waivers else ""))
    for result in report.apis:
        c = result.counts()
        lines.append(
            f"| {result.api} | **{result.verdict(report.strict)}** | {c['pass']} | {c['fail']} "
            f"| {c['non-strict']} | {c['skip']} | {c['error']} |" + (f" {c.get('waived', 0)} |" if waivers else "")
        )
    if waivers:
        entries = report.baseline.entries
        lines += [
            "",
            f"Baseline `{_cell(report.baseline.file)}`: {entries} entr{'y' if entries == 1 else 'ies'}; "
            "a waived case failed, and a baseline entry accepts it (it does not change the verdict).",
        ]
        tested = {result.api for result in report.apis}
        elsewhere = [e for e in report.baseline.not_judged if e.api not in tested]
        if elsewhere:
            lines += ["", "Not judged in this run (their API was not run; kept):", ""]
            lines += [f"- entry {e.number}: {e.api} `{_cell(e.case)}`: {_cell(e.reason)}" for e in elsewhere]
    for result in report.apis:
        lines += ["", f"## {result.api} — {result.verdict(report.strict)}", "", f"Target: `{result.target}`", ""]
        lines.append("| case | level | outcome | checked | title | source and quote | details |")
        lines.append("|---|---|---|---|---|---|---|")
        for item in result.cases:
            case = item.case
            source = _cell(case.source) + (f': "{_cell(case.quote)}"' if case.quote else "")
            lines.append(
                f"| {case.id} | {case.level} | {_MARK[item.outcome]} | {item.checked} | {_cell(case.title)} "
                f"| {source} | {_cell(_details(item))} |"
            )
        for error in result.harness_errors:
            lines.append(f"\nHarness error: {_cell(error)}")
        if waivers:
            lines += _baseline_entries(report.baseline, result.api)
    return "\n".join(lines) + "\n"


def _details(item) -> str:
    waiver = item.waived
    if waiver is None:
        return item.details
    extra = "".join(
        f", {label} {value}" for label, value in (("expires", waiver.expires), ("ticket", waiver.ticket)) if value
    )
    return f"waived ({waiver.observed}{extra}): {waiver.reason} — finding: {item.details}"


def _baseline_entries(baseline, api: str) -> list[str]:
    """The API's stale, expired and not-judged baseline entries, under its table."""
    lines = []
    for label, entries in (
        ("Stale (every case it covers passed; remove it from the baseline)", baseline.stale),
        ("Expired (waives nothing)", baseline.expired),
        ("Not judged in this run (kept)", baseline.not_judged),
    ):
        mine = [entry for entry in entries if entry.api == api]
        if mine:
            lines += ["", f"{label}:", ""]
            lines += [
                f"- entry {e.number}: `{_cell(e.case)}`: {_cell(e.reason)}"
                + (f" (expires {e.expires})" if e.expires else "")
                for e in mine
            ]
    return lines


def write_markdown(report: RunReport, report_dir: Path) -> Path:
    path = report_dir / "conformance.md"
    write_atomically(path, render_markdown(report))
    return path
