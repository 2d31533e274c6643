"""`msgconform diff OLD NEW`: what changed between two runs (contracts.md section 6).

    diff = compare(Path("reports-main"), Path("reports-branch"), strict=False)
    print(render_markdown(diff)); sys.exit(diff.exit_status)

`compare` looks at what it is given: two `conformance.json` files (or report folders
holding one) are compared case by case (`_reports`); two cassette folders (a
`manifest.json` in each) are compared answer by answer and per operation — the behaviour
diff (`_cassettes`, with bodies read in `_bodies`). Anything else, or one of each, is bad
input: `UsageError`, one line, exit status 2. The result is a `Diff` of `Change`s, each
marked as a regression or not; `exit_status` is 1 when any is a regression. Rendering is
`_render`: Markdown for a job summary, or JSON.

More comparisons per API plug in with `register_extra(api, compare)` (see `_cassettes`):
SuperOffice's delivered mail, recorded beside the exchanges, is compared by `_mail`.
"""

from __future__ import annotations

from pathlib import Path

from msgconform.cassettes import MANIFEST
from msgconform.diff import _mail  # noqa: F401 - registers SuperOffice's delivered-mail comparison
from msgconform.diff._cassettes import Groups, compare_groups, register_extra
from msgconform.diff._model import ApiDiff, Change, Diff
from msgconform.diff._render import render_json, render_markdown
from msgconform.diff._reports import REPORT
from msgconform.errors import UsageError

__all__ = [
    "ApiDiff",
    "Change",
    "Diff",
    "Groups",
    "compare",
    "compare_groups",
    "kind_of",
    "register_extra",
    "render_json",
    "render_markdown",
]


def kind_of(path: Path, side: str) -> str:
    """`reports` or `cassettes`: what `path` holds; UsageError (one line) when neither."""
    if path.is_dir():
        if (path / MANIFEST).is_file():
            return "cassettes"
        if (path / REPORT).is_file():
            return "reports"
        raise UsageError(
            f"diff: {side} {path}: neither a report folder (no {REPORT}) nor a cassette folder (no {MANIFEST})"
        )
    if path.is_file():
        return "reports"
    raise UsageError(f"diff: {side} {path}: no such file or folder")


def compare(old: Path, new: Path, *, strict: bool = False) -> Diff:
    old_kind, new_kind = kind_of(old, "OLD"), kind_of(new, "NEW")
    if old_kind != new_kind:
        raise UsageError(f"diff: OLD {old} holds {old_kind}, NEW {new} holds {new_kind}: compare like with like")
    if old_kind == "cassettes":
        from msgconform.diff import _cassettes

        return _cassettes.diff(old, new, strict=strict)
    from msgconform.diff import _reports

    return _reports.diff(old, new, strict=strict)
