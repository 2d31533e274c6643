"""`msgconform selftest`: what the suite catches, and what it wrongly blames.

Three kinds of run, each a full `msgconform run` against the embedded reference servers:

- the faithful servers: every catalogued case must pass (judged at least once);
- each variant (an open choice the documents allow, turned the other way): the API must
  stay conformant, no case failing or erroring;
- each fault (a deviation a vendor could ship), judged on its own API only: every case the
  fault names must fail (MUST `fail`, SHOULD `non-strict`) and no other case may fail or
  error — a fault that breaks everything proves nothing.

Runs go two at a time (the machine has two cores). Progress goes to stderr (which run,
how many of how many, elapsed; one line per run where stderr is not a terminal, see
`msgconform.progress`); the table and the score go to stdout;
exit status 1 if a fault is missed, a variant is blamed, or the faithful servers fail.
The quality test group (tests/quality/) calls the same functions, one test per entry.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from msgconform.progress import Progress
from msgconform.runner import RunOptions, embedded_apis, run
from msgconform.servers import faults as registry

MAX_EXAMPLES = 5
FAILED = ("fail", "non-strict")


@dataclass
class Finding:
    """The verdict on one selftest run."""

    kind: str  # faithful | variant | fault
    api: str
    name: str
    expected: tuple[str, ...] = ()
    missed: list[str] = field(default_factory=list)  # expected cases that did not fail
    disturbed: dict[str, str] = field(default_factory=dict)  # other cases that failed or erred
    not_passing: dict[str, str] = field(default_factory=dict)  # faithful: cases not `pass`

    @property
    def ok(self) -> bool:
        return not (self.missed or self.disturbed or self.not_passing)

    def explain(self) -> str:
        parts = []
        if self.missed:
            parts.append(f"missed by {', '.join(self.missed)}")
        if self.disturbed:
            parts.append("disturbed " + "; ".join(f"{k} ({v})" for k, v in self.disturbed.items()))
        if self.not_passing:
            parts.append("not passing " + "; ".join(f"{k} ({v})" for k, v in self.not_passing.items()))
        return ", ".join(parts)


def _cases(api: str, names: Iterable[str], report_dir: Path, record_to: Path | None = None) -> dict:
    """The outcomes of one run; with `record_to`, the run also records its cassettes there
    (for the behaviour diff, `msgconform.diff`: the same run, no second one)."""
    recording: dict[str, Any] = {"mode": "record", "cassette_dir": record_to} if record_to is not None else {}
    with open(os.devnull, "w") as quiet:
        result = run(
            RunOptions(apis=[api], faults=list(names), max_examples=MAX_EXAMPLES, report_dir=report_dir, **recording),
            log=quiet,
        )
    return {item.case.id: item for item in result.report.apis[0].cases}


def check_faithful(api: str, report_dir: Path, record_to: Path | None = None) -> Finding:
    cases = _cases(api, [], report_dir, record_to)
    return Finding(
        "faithful",
        api,
        "(no fault)",
        not_passing={
            cid: f"{c.outcome}: {c.details}" for cid, c in cases.items() if c.outcome != "pass" or c.checked < 1
        },
    )


def check_variant(entry: registry.Entry, report_dir: Path, record_to: Path | None = None) -> Finding:
    cases = _cases(entry.api, [entry.name], report_dir, record_to)
    return Finding(
        "variant",
        entry.api,
        entry.name,
        disturbed={cid: f"{c.outcome}: {c.details}" for cid, c in cases.items() if c.outcome in (*FAILED, "error")},
    )


def check_fault(entry: registry.Entry, report_dir: Path, record_to: Path | None = None) -> Finding:
    cases = _cases(entry.api, [entry.name], report_dir, record_to)
    return Finding(
        "fault",
        entry.api,
        entry.name,
        expected=entry.catches,
        missed=[cid for cid in entry.catches if cases[cid].outcome not in FAILED],
        disturbed={
            cid: f"{c.outcome}: {c.details}"
            for cid, c in cases.items()
            if cid not in entry.catches and c.outcome in (*FAILED, "error")
        },
    )


def _entries(api: str) -> tuple[registry.Entry, ...]:
    return registry.for_api(api)


def plan(apis: Iterable[str], names: Iterable[str] = ()) -> list[tuple[str, Callable[[Path], Finding]]]:
    """The runs to make: the faithful servers of each API, then its variants, then its faults."""
    wanted = set(names)
    jobs: list[tuple[str, Callable[[Path], Finding]]] = []
    for api in apis:
        if not wanted:
            jobs.append((f"{api} faithful", partial(check_faithful, api)))
        for entry in _entries(api):
            if wanted and entry.name not in wanted:
                continue
            check = check_variant if entry.kind == "variant" else check_fault
            jobs.append((f"{api} {entry.name}", partial(check, entry)))
    return jobs


def main(
    apis: list[str], names: Sequence[str] = (), *, jobs: int = 2, out=None, log=None, cassette_dir: Path | None = None
) -> int:
    """Faults, variants and faithful servers (their outcome decides the exit status), then,
    when `cassette_dir` holds a recording, response mutation over it (printed, scored)."""
    out, log = out or sys.stdout, log or sys.stderr
    apis = apis or embedded_apis()
    work = plan(apis, names)
    if not work:
        print("msgconform: selftest: nothing to run", file=log)
        return 2
    progress = Progress("selftest", len(work), log)
    progress.note(f"{len(work)} runs, {jobs} at a time")

    def one(index: int, label: str, job: Callable[[Path], Finding], scratch: Path) -> Finding:
        progress.started(label)
        finding = job(scratch / str(index))
        progress.finished(label, _verdict(finding), keep=not finding.ok)
        return finding

    with tempfile.TemporaryDirectory(prefix="msgconform-selftest-") as scratch, ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(one, index, label, job, Path(scratch)) for index, (label, job) in enumerate(work)]
        findings = [future.result() for future in futures]  # in plan order, whatever order they finished in
    progress.close()
    _table(findings, out)
    if cassette_dir is not None:
        _mutate(cassette_dir, apis, jobs, out, log)
    return 0 if all(f.ok for f in findings) else 1


def _verdict(finding: Finding) -> str:
    """The word for a run's outcome in a progress line (the table has the whole story)."""
    if not finding.ok:
        why = finding.explain()
        return f"NOT OK: {why[:160]}..." if len(why) > 160 else f"NOT OK: {why}"
    return {"fault": "caught", "variant": "conformant"}.get(finding.kind, "every case passes")


def _mutate(cassette_dir: Path, apis: list[str], jobs: int, out, log) -> None:
    from msgconform import mutation
    from msgconform.cassettes import MANIFEST

    if not (cassette_dir / MANIFEST).is_file():
        print(
            f"msgconform: selftest: no recording in {cassette_dir}, so no response mutation "
            "(record one with `msgconform run --record`)",
            file=log,
        )
        return
    print(f"msgconform: selftest: mutating responses recorded in {cassette_dir}", file=log)
    print("", file=out)
    mutation.print_results(mutation.run_mutants(cassette_dir, apis, jobs=jobs, log=log), out)


def _table(findings: list[Finding], out) -> None:
    print("| api | kind | name | expected cases | result | other cases disturbed |", file=out)
    print("|---|---|---|---|---|---|", file=out)
    for f in findings:
        if f.kind == "fault":
            result = "caught" if not f.missed else f"MISSED by {', '.join(f.missed)}"
        else:
            result = "conformant" if f.ok else "BLAMED"
        disturbed = "; ".join(f"{k} ({v[:80]})" for k, v in {**f.disturbed, **f.not_passing}.items()) or "none"
        print(f"| {f.api} | {f.kind} | {f.name} | {', '.join(f.expected) or '-'} | {result} | {disturbed} |", file=out)
    faults = [f for f in findings if f.kind == "fault"]
    variants = [f for f in findings if f.kind == "variant"]
    faithful = [f for f in findings if f.kind == "faithful"]
    print("", file=out)
    print(
        f"faults caught: {sum(not f.missed and not f.disturbed for f in faults)}/{len(faults)}; "
        f"variants passed: {sum(f.ok for f in variants)}/{len(variants)}; "
        f"faithful servers passing: {sum(f.ok for f in faithful)}/{len(faithful)}",
        file=out,
    )
