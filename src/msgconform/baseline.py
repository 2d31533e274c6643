"""Baselines: known, accepted deviations that do not fail the gate (contracts.md section 5).

    baseline file (TOML) --load()--> Baseline: entries checked against the case catalogues
    Baseline + folded ApiResults --apply()--> failures covered by an unexpired entry become
        `waived` (with a `Waiver`), and a BaselineReport: stale, not judged and expired entries
    last conformance.json (+ --update FILE) --write_baseline()--> the TOML text of a new
        baseline, comments of the kept entries preserved (tomlkit)

Reading is typed: a pydantic model (unknown keys refused, strict types, a TOML date for
`expires`) and then the catalogue (the API must have one, a case id must be in it, a glob
must match some id). Any refusal is a `BaselineError`: one line naming the file, the entry
(``[[known]] entry 3``, counted from 1) and the key, and exit status 2. The runner loads the
baseline before it touches the report folder, so a bad file loses nothing of the last run.

What an entry is after a run, judged from the outcomes the run *observed* (before waiving):

- **waiving** (not listed): some case it covers failed (`fail` or `non-strict`);
- **stale**: every case it covers was judged and passed — the vendor mended it;
- **not judged**: otherwise (a case skipped, errored, not selected, or its API not tested);
- **expired**: `expires` is today (UTC) or earlier — it waives nothing, whatever it covers.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator

from msgconform import catalogue
from msgconform.errors import UsageError
from msgconform.outcomes import WAIVED, ApiResult, CaseOutcome, Waiver
from msgconform.selection import matches

FAILED = ("fail", "non-strict")
_GLOB = re.compile(r"[*?\[]")


class BaselineError(UsageError):
    """A baseline file msgconform refuses (exit status 2, one line naming the entry and key)."""


# --- the file, typed ---------------------------------------------------------------------------


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    api: StrictStr
    case: Annotated[StrictStr, Field(min_length=1)]
    reason: StrictStr
    expires: date | None = None
    ticket: StrictStr | None = None

    @field_validator("expires", mode="before")
    @classmethod
    def _a_date_only(cls, value: Any) -> Any:
        if isinstance(value, datetime) or (value is not None and not isinstance(value, date)):
            raise ValueError("must be a TOML date such as 2027-03-31 (unquoted, no time)")
        return value

    @field_validator("reason")
    @classmethod
    def _a_reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must say why the deviation is accepted (it is empty)")
        return value


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    known: list[_Entry] = []


@dataclass(frozen=True)
class Entry:
    number: int  # 1-based, in file order
    api: str
    case: str  # an id or a glob
    reason: str
    expires: date | None
    ticket: str | None
    covers: frozenset[str]  # the catalogued case ids it names

    def expired(self, today: date) -> bool:
        return self.expires is not None and today >= self.expires

    def to_json(self) -> dict:
        return {
            "entry": self.number,
            "api": self.api,
            "case": self.case,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
            "ticket": self.ticket,
        }


@dataclass(frozen=True)
class Baseline:
    file: str
    entries: tuple[Entry, ...]


def _where(file: str, loc: tuple) -> str:
    if len(loc) >= 2 and loc[0] == "known" and isinstance(loc[1], int):
        rest = ".".join(str(part) for part in loc[2:])
        return f"{file}: [[known]] entry {loc[1] + 1}" + (f": {rest}" if rest else "")
    return f"{file}: {'.'.join(str(part) for part in loc) or 'file'}"


def _explain(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing (every entry needs api, case and reason)"
    if kind == "extra_forbidden":
        return "unknown key (an entry has api, case, reason, expires, ticket; the file has [[known]] entries)"
    message = error["msg"].removeprefix("Value error, ")
    return message


def parse(text: str, file: str) -> Baseline:
    """The baseline in `text` (named `file` in messages); raises BaselineError."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BaselineError(f"{file}: not a valid TOML file ({exc})") from None
    try:
        model = _File.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BaselineError(f"{_where(file, tuple(first['loc']))}: {_explain(first)}") from None
    entries = []
    available = catalogue.available_apis()
    for number, item in enumerate(model.known, start=1):
        where = f"{file}: [[known]] entry {number}"
        if item.api not in available:
            raise BaselineError(f"{where}: api: {item.api!r} has no case catalogue (known: {', '.join(available)})")
        ids = catalogue.load(item.api).ids
        covers = frozenset(case_id for case_id in ids if matches(item.case, case_id))
        if not covers:
            what = "glob matches no case id" if _GLOB.search(item.case) else "is not a case id"
            raise BaselineError(f"{where}: case: {item.case!r} {what} of the {item.api} catalogue")
        entries.append(Entry(number, item.api, item.case, item.reason, item.expires, item.ticket, covers))
    return Baseline(file, tuple(entries))


def load(path: Path) -> Baseline:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline file ({type(exc).__name__})") from None
    return parse(text, str(path))


# --- applying it to a run --------------------------------------------------------------------------


@dataclass
class BaselineReport:
    """The `baseline` block of conformance.json."""

    file: str
    entries: int
    stale: list[Entry] = field(default_factory=list)
    not_judged: list[Entry] = field(default_factory=list)
    expired: list[Entry] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "entries": self.entries,
            "stale": [e.to_json() for e in self.stale],
            "not_judged": [e.to_json() for e in self.not_judged],
            "expired": [e.to_json() for e in self.expired],
        }

    def lines(self) -> list[str]:
        """What stderr says about the entries (one line each)."""
        out = []
        for label, entries in (
            ("stale (every case it covers passed: remove it)", self.stale),
            ("expired (it waives nothing)", self.expired),
            ("not judged (kept)", self.not_judged),
        ):
            for entry in entries:
                out.append(
                    f"baseline {self.file}: [[known]] entry {entry.number} ({entry.api} {entry.case}) is {label}"
                )
        return out


def state(entry: Entry, observed: Mapping[str, Mapping[str, str]]) -> str:
    """ "waiving", "stale" or "not judged", from the outcomes a run observed (api -> case -> outcome,
    a waived case counted by the outcome it replaced)."""
    seen = observed.get(entry.api)
    if seen is None:
        return "not judged"
    outcomes = [seen.get(case_id) for case_id in entry.covers]
    if any(outcome in FAILED for outcome in outcomes):
        return "waiving"
    if all(outcome == "pass" for outcome in outcomes):
        return "stale"
    return "not judged"


def apply(baseline: Baseline, results: list[ApiResult], today: date) -> tuple[list[ApiResult], BaselineReport]:
    """Failures that an unexpired entry covers become `waived`; and what became of each entry."""
    observed = {
        result.api: {item.case.id: item.outcome for item in result.cases} for result in results if result.tested
    }
    active = [entry for entry in baseline.entries if not entry.expired(today)]
    waived_results = []
    for result in results:
        cases = []
        for item in result.cases:
            entry = next((e for e in active if e.api == result.api and item.case.id in e.covers), None)
            if entry is not None and item.outcome in FAILED:
                item = replace(
                    item, outcome=WAIVED, waived=Waiver(entry.reason, entry.expires, entry.ticket, item.outcome)
                )
            cases.append(item)
        waived_results.append(replace(result, cases=cases))
    report = BaselineReport(baseline.file, len(baseline.entries))
    for entry in baseline.entries:
        if entry.expired(today):
            report.expired.append(entry)
        elif (what := state(entry, observed)) == "stale":
            report.stale.append(entry)
        elif what == "not judged":
            report.not_judged.append(entry)
    return waived_results, report


def waived_json(item: CaseOutcome) -> dict:
    waiver = item.waived
    assert waiver is not None
    return {
        "reason": waiver.reason,
        "expires": waiver.expires.isoformat() if waiver.expires else None,
        "ticket": waiver.ticket,
        "observed": waiver.observed,
    }


# --- writing one: `msgconform baseline` ------------------------------------------------------------


HEADER = """\
# msgconform baseline: known deviations of the vendor that do not fail the gate.
# Pass it with `msgconform run --baseline FILE`. Each [[known]] entry names an api, a case id
# (or a glob over ids), why the deviation is accepted, and optionally `expires` (a TOML date;
# from that day on it waives nothing) and `ticket`. Ratchet it after a run with
# `msgconform baseline --update FILE --out FILE`: entries the vendor has mended are dropped.

"""


def observed_outcomes(document: dict) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, dict]]]:
    """From a conformance.json document: api -> case -> observed outcome (a waived case counts
    by what it replaced; APIs not tested are left out), and api -> case -> the case object."""
    observed: dict[str, dict[str, str]] = {}
    cases: dict[str, dict[str, dict]] = {}
    for api, block in document.get("apis", {}).items():
        cases[api] = {case["id"]: case for case in block.get("cases", [])}
        if block.get("verdict") == "skipped":
            continue
        observed[api] = {
            case["id"]: (case.get("waived") or {}).get("observed", case["outcome"])
            if case["outcome"] == WAIVED
            else case["outcome"]
            for case in block.get("cases", [])
        }
    return observed, cases


def read_report(report_dir: Path) -> dict:
    path = report_dir / "conformance.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such file; run `msgconform run --report-dir {report_dir}` first") from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"{path}: not a readable conformance.json ({type(exc).__name__})") from None
    if (
        not isinstance(document, dict)
        or document.get("tool") != "msgconform"
        or not isinstance(document.get("apis"), dict)
    ):
        raise BaselineError(f"{path}: not a msgconform conformance.json")
    return document


def write_baseline(
    document: dict, *, update: Path | None = None, reason: str | None = None, expires: date | None = None
) -> str:
    """The text of a baseline for the run in `document` (a conformance.json).

    New entries: one per failing case (`fail`, `non-strict`, or waived) no kept entry covers,
    with `reason` and `expires`. With `update`, its entries that still cover a failure or were
    not judged are kept as written (reason, expiry, ticket, comments); stale ones are dropped.
    """
    import tomlkit

    observed, cases = observed_outcomes(document)
    kept: list[Entry] = []
    if update is not None:
        old = load(update)
        text = update.read_text(encoding="utf-8")
        drop = [entry for entry in old.entries if state(entry, observed) == "stale"]
        kept = [entry for entry in old.entries if entry not in drop]
        doc = tomlkit.parse(_without_entries(text, [e.number for e in drop], str(update)))
        if not text.strip():
            doc = tomlkit.parse(HEADER)
    else:
        doc = tomlkit.parse(HEADER)
    new = [
        (api, case_id)
        for api, seen in observed.items()
        for case_id, outcome in seen.items()
        if outcome in FAILED and not any(e.api == api and case_id in e.covers for e in kept)
    ]
    if new and not (reason and reason.strip()):
        raise BaselineError(
            f"{len(new)} failing case(s) have no baseline entry yet "
            f"({', '.join(c for _, c in new[:3])}{', ...' if len(new) > 3 else ''}): "
            "give --reason TEXT"
        )
    if new:
        if "known" not in doc:
            doc["known"] = tomlkit.aot()
        known = doc["known"]
        if len(known) and not tomlkit.dumps(doc).endswith("\n\n"):
            known[-1].add(tomlkit.nl())  # a blank line before the first new entry
        for api, case_id in new:
            case = cases[api][case_id]
            table = tomlkit.table()
            table.add(tomlkit.comment(f"{case['level']} {observed[api][case_id]}: {case['title']}"))
            table.add("api", api)
            table.add("case", case_id)
            table.add("reason", reason)
            if expires is not None:
                table.add("expires", expires)
            table.add(tomlkit.nl())
            known.append(table)
    out = tomlkit.dumps(doc)
    parse(out, "the new baseline")  # what is written must read back
    return out


_HEADER_LINE = re.compile(r"^\s*\[\[\s*known\s*\]\]\s*(#.*)?$")


def _without_entries(text: str, numbers: Iterable[int], file: str) -> str:
    """`text` without the [[known]] entries `numbers` (1-based), each with the comment lines
    directly above its header (no blank line between); everything else stays as written."""
    numbers = set(numbers)
    if not numbers:
        return text
    lines = text.splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if _HEADER_LINE.match(line)]
    if len(headers) != len(parse(text, file).entries):
        # entries written another way (an inline array): let tomlkit remove them
        import tomlkit

        doc = tomlkit.parse(text)
        for number in sorted(numbers, reverse=True):
            del doc["known"][number - 1]
        return tomlkit.dumps(doc)

    def start(i: int) -> int:  # the first line of header i's leading comment block
        at = headers[i]
        while at > 0 and lines[at - 1].lstrip().startswith("#"):
            at -= 1
        return at

    starts = [start(i) for i in range(len(headers))]
    keep = [True] * len(lines)
    for number in numbers:
        i = number - 1
        end = starts[i + 1] if i + 1 < len(headers) else len(lines)
        for line in range(starts[i], end):
            keep[line] = False
    return "".join(line for line, kept in zip(lines, keep, strict=True) if kept)
