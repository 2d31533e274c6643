"""Two `conformance.json` files: verdicts, cases regressed, fixed, new and gone, INFO changes.

The rules are contracts.md section 6. A case *regressed* when its outcome was `pass`, `skip`
or absent in OLD and is `fail` or `error` in NEW (with `--strict`, `non-strict` too); it is
*fixed* when it was `fail`, `error` or `non-strict` and is `pass`. A `waived` case (section 5)
counts as the outcome it replaced, `waived.observed`: a baseline hides a failure from the
gate, never from a diff. A verdict that got worse is a regression too. INFO cases never
fail, so what an upgrade check wants from them is their observation: a change of `details`
is listed. Other outcome changes (pass to `non-strict` without `--strict`, pass to skip)
are listed as changes, not regressions.

The files are read loosely, as a later version may add keys: what is needed (`apis`, each
with `verdict` and `cases` having `id`, `level`, `outcome`) must be there, nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path

from msgconform.diff._model import ApiDiff, Change, Diff
from msgconform.errors import UsageError

REPORT = "conformance.json"
FAILING = ("fail", "error")
GOOD = ("pass", "skip", None)  # None: absent in OLD
# How bad a verdict is; a higher rank in NEW is a regression.
_RANK = {"conformant": 0, "skipped": 0, "error": 1, "nonconformant": 2}


def load(path: Path) -> dict:
    """A conformance.json (or the one in a report folder) as a dict; UsageError, one line, if not."""
    file = path / REPORT if path.is_dir() else path
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"diff: {path}: no {REPORT} there") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"diff: {file}: cannot be read ({exc.__class__.__name__})") from None
    except ValueError as exc:
        raise UsageError(f"diff: {file}: not JSON ({exc})") from None
    problem = _shape_problem(document)
    if problem:
        raise UsageError(f"diff: {file}: not a msgconform conformance report ({problem})")
    return document


def _shape_problem(document: object) -> str:
    if not isinstance(document, dict) or not isinstance(document.get("apis"), dict):
        return "no `apis` object"
    for api, result in document["apis"].items():
        if not isinstance(result, dict) or not isinstance(result.get("cases"), list):
            return f"apis.{api} has no `cases` list"
        if not isinstance(result.get("verdict"), str):
            return f"apis.{api} has no `verdict`"
        for index, case in enumerate(result["cases"]):
            if not isinstance(case, dict) or not all(isinstance(case.get(k), str) for k in ("id", "level", "outcome")):
                return f"apis.{api}.cases[{index}] lacks id, level or outcome"
    return ""


def observed(case: dict | None) -> str | None:
    """The outcome a case is compared by: a waived case's `waived.observed`."""
    if case is None:
        return None
    if case["outcome"] == "waived":
        waived = case.get("waived")
        if isinstance(waived, dict) and isinstance(waived.get("observed"), str):
            return waived["observed"]
    return case["outcome"]


def _shown(case: dict | None) -> str:
    if case is None:
        return "absent"
    if case["outcome"] == "waived":
        return f"waived (observed {observed(case)})"
    return case["outcome"]


def _verdict(result: dict | None, strict: bool) -> str:
    if result is None:
        return "absent"
    verdict = result["verdict"]
    if (
        strict
        and verdict == "conformant"
        and any(observed(c) == "non-strict" for c in result["cases"] if c["outcome"] != "waived")
    ):
        return "nonconformant"  # judged with --strict, as `run --strict` would have
    return verdict


def diff(old_path: Path, new_path: Path, *, strict: bool) -> Diff:
    old, new = load(old_path), load(new_path)
    failing = FAILING + (("non-strict",) if strict else ())
    result = Diff("reports", str(old_path), str(new_path), strict)
    for key, label in (("seed", "seed"), ("max_examples", "--max-examples"), ("mode", "mode")):
        if old.get(key) != new.get(key):
            result.notes.append(f"{label} differs: {old.get(key)} in OLD, {new.get(key)} in NEW")
    for api in list(dict.fromkeys([*old["apis"], *new["apis"]])):
        before, after = old["apis"].get(api), new["apis"].get(api)
        api_diff = ApiDiff(api, _verdict(before, strict), _verdict(after, strict))
        if api_diff.before != api_diff.after:
            worse = _RANK.get(api_diff.after, 0) > _RANK.get(api_diff.before, 0) and before is not None
            api_diff.changes.append(
                Change(api, "verdict", "verdict", "", api_diff.before, api_diff.after, regression=worse)
            )
        _cases(api_diff, before, after, failing)
        result.apis.append(api_diff)
    return result


def _cases(api_diff: ApiDiff, before: dict | None, after: dict | None, failing: tuple[str, ...]) -> None:
    api = api_diff.api
    old_cases = {c["id"]: c for c in (before or {}).get("cases", [])}
    new_cases = {c["id"]: c for c in (after or {}).get("cases", [])}
    for case_id in dict.fromkeys([*new_cases, *old_cases]):
        old, new = old_cases.get(case_id), new_cases.get(case_id)
        was, now = observed(old), observed(new)
        either = new or old
        assert either is not None  # case_id is a key of one of the two
        level = either["level"]
        where = f"{case_id} ({level})"
        details = " ".join(str(either.get("details") or "").split())
        if new is not None and was in GOOD and now in failing:
            api_diff.changes.append(Change(api, "regressed", where, "", _shown(old), _shown(new), True, details))
        elif new is None:
            api_diff.changes.append(Change(api, "gone", where, "", _shown(old), "absent"))
        elif old is None:
            api_diff.changes.append(Change(api, "new", where, "", "absent", _shown(new), note=details))
        elif was in (*FAILING, "non-strict") and now == "pass":
            api_diff.changes.append(Change(api, "fixed", where, "", _shown(old), _shown(new)))
        elif was != now:
            api_diff.changes.append(Change(api, "outcome changed", where, "", _shown(old), _shown(new), note=details))
        elif level == "INFO" and (old.get("details") or "") != (new.get("details") or ""):
            api_diff.changes.append(
                Change(api, "INFO changed", where, "", old.get("details") or "(none)", new.get("details") or "(none)")
            )
