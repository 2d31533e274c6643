"""The lines `msgconform run` ends its stdout with: one per API (contracts.md section 1)."""

from __future__ import annotations

from msgconform.report._model import RunReport


def summary_lines(report: RunReport) -> list[str]:
    lines = []
    for result in report.apis:
        c = result.counts()
        lines.append(
            f"{result.api}: {result.verdict(report.strict)} ({c['pass']} pass, {c['fail']} fail, "
            f"{c['non-strict']} non-strict, {c['skip']} skip, {c['error']} error"
            + (f", {c.get('waived', 0)} waived" if report.baseline is not None else "")
            + f"{'; interrupted' if report.interrupted else ''})"
        )
    return lines
