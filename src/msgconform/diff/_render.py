"""A `Diff` as Markdown (for a CI job summary or a pull-request comment) or as JSON.

The Markdown puts the regressions first, then the other changes, then what was not
compared and why. Tables are GitHub-flavoured; a cell never breaks a row (`|` escaped,
whitespace folded) and long tables stop at `MAX_ROWS` with a pointer to `--format json`.
"""

from __future__ import annotations

import json

from msgconform.diff._model import Change, Diff

MAX_ROWS = 200
_ORDER_REPORTS = ("regressed", "verdict", "fixed", "outcome changed", "INFO changed", "new", "gone")


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") or " "


def _code(text: str) -> str:
    return f"`{text}`" if text and "`" not in text else _cell(text)


def _table(changes: list[Change], kind: str) -> list[str]:
    if kind == "reports":
        lines = ["| API | change | case | before | after | details |", "|---|---|---|---|---|---|"]
        rows = [
            f"| {c.api} | {c.section} | {_cell(c.where)} | {_cell(c.before)} | {_cell(c.after)} | {_cell(c.note)} |"
            for c in changes
        ]
    else:
        lines = ["| API | change | answers | what | before | after | seen in |", "|---|---|---|---|---|---|---|"]
        rows = [
            f"| {c.api} | {c.section} | {_code(c.where)} | {_code(c.subject) if c.subject else ' '} "
            f"| {_cell(c.before)} | {_cell(c.after)} | {_cell(c.note)} |"
            for c in changes
        ]
    lines += rows[:MAX_ROWS]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n… and {len(rows) - MAX_ROWS} more (all of them: `msgconform diff --format json`)")
    return lines


def _sorted(changes: list[Change], kind: str) -> list[Change]:
    if kind == "reports":
        order = {name: index for index, name in enumerate(_ORDER_REPORTS)}
        return sorted(changes, key=lambda c: order.get(c.section, len(order)))
    return changes


def render_markdown(diff: Diff) -> str:
    regressions = diff.regressions
    others = [c for c in diff.changes if not c.regression]
    what = "conformance reports" if diff.kind == "reports" else "cassette recordings"
    if regressions:
        title = f"{len(regressions)} regression{'s' if len(regressions) != 1 else ''}"
    else:
        title = "no regression"
    lines = [f"# msgconform diff: {title}", ""]
    lines.append(
        f"{what.capitalize()}: `{diff.old}` (before) → `{diff.new}` (after){', `--strict`' if diff.strict else ''}."
    )
    lines += ["", "| API | before | after | regressions | other changes |", "|---|---|---|---|---|"]
    for api in diff.apis:
        lines.append(
            f"| {api.api} | {api.before} | {api.after} | {len(api.regressions)} "
            f"| {len(api.changes) - len(api.regressions)} |"
        )
    if not diff.changes:
        lines += ["", "No differences."]
    if regressions:
        lines += ["", "## Regressions", ""] + _table(_sorted(regressions, diff.kind), diff.kind)
    if others:
        lines += ["", "## Other changes (not regressions)", ""] + _table(_sorted(others, diff.kind), diff.kind)
    notes = diff.notes + [f"{api.api}: {note}" for api in diff.apis for note in api.notes]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {_cell(note)}" for note in notes]
    if diff.ignored:
        lines += ["", "## Not compared, and why", ""]
        lines += [f"- {what_}: {why}" for what_, why in diff.ignored]
        lines.append(
            "- values in general: only answers to the same request are compared value by value; "
            "otherwise shapes (paths and types), never values"
        )
    return "\n".join(lines) + "\n"


def render_json(diff: Diff) -> str:
    document = {
        "format": 1,
        "kind": diff.kind,
        "old": diff.old,
        "new": diff.new,
        "strict": diff.strict,
        "regression": bool(diff.regressions),
        "apis": {
            api.api: {
                "before": api.before,
                "after": api.after,
                "regressions": [c.as_dict() for c in api.regressions],
                "changes": [c.as_dict() for c in api.changes if not c.regression],
                "notes": api.notes,
            }
            for api in diff.apis
        },
        "notes": diff.notes,
        "not_compared": [{"what": what, "why": why} for what, why in diff.ignored],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
