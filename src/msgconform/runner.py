"""`msgconform run`: from targets to verdicts.

    targets (file, or the embedded reference servers) -> preflight -> the suite, as
    `python -m pytest` in a subprocess per API (up to --jobs at once, taken in API order)
    -> events -> outcomes -> report writers -> exit status

Every process a run starts is registered with its `lifecycle.Lifecycle`: SIGINT or
SIGTERM stops them all within seconds, and the reports are still written for what was
judged, marked as interrupted (exit status 2). A suite process killed by a signal, or
one that outlives its API's `max_duration`, is named in one line; the three reports
(conformance.json, junit.xml, conformance.md) are always written together.

The suite runs in a subprocess with autoloading of pytest plugins off and its plugins
named explicitly, in a scratch folder, with its own configuration (suites/pytest.ini):
a user's pytest setup never leaks in, and no global state survives between runs. The
resolved targets reach it as a file readable only by the user, deleted afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from msgconform import _resources, cassettes, catalogue, lifecycle, outcomes, preflight
from msgconform import baseline as baselines
from msgconform import selection as selections
from msgconform.concurrency import run_in_order
from msgconform.errors import UsageError
from msgconform.progress import Progress
from msgconform.report import (
    RunReport,
    allure_results,
    write_conformance_json,
    write_junit,
    write_markdown,
)
from msgconform.targets import SUPPORTED_APIS, Targets, load_targets, parse_targets

DEFAULT_SEED = 20261122
DEFAULT_MAX_EXAMPLES = 25
SUITE_PLUGINS = ("_hypothesis_pytestplugin", "schemathesis.pytest.plugin", "msgconform.plugin")
# A suite past its API's max_duration stops by itself (its guard refuses every request);
# this much later the runner stops it (a suite stuck outside any request).
MAX_DURATION_GRACE = 30.0


@dataclass
class RunOptions:
    targets: Path | None = None
    apis: list[str] = field(default_factory=list)
    report_dir: Path = Path("reports")
    max_examples: int = DEFAULT_MAX_EXAMPLES
    strict: bool = False
    mode: str = "live"
    cassette_dir: Path = Path("cassettes")
    allow_attacks: bool = False
    seed: int = DEFAULT_SEED
    faults: list[str] = field(default_factory=list)  # embedded servers only (self-test)
    exchanges: Path | None = None  # log every request sent (tests)
    baseline: Path | None = None  # --baseline FILE (contracts.md section 5)
    cases: list[str] = field(default_factory=list)  # --case PATTERN...
    jobs: int = 1  # per-API suite processes at once (the CLI's --jobs defaults to the cores)


@dataclass
class RunResult:
    report: RunReport
    exit_status: int
    events: list[dict] = field(default_factory=list)  # what the suites recorded (tests look at them)


def embedded_apis() -> list[str]:
    from msgconform.servers import AVAILABLE

    return [api for api in SUPPORTED_APIS if api in AVAILABLE and api in catalogue.available_apis()]


def run(options: RunOptions, *, log=sys.stderr) -> RunResult:
    """Run the suite and write the reports; raises UsageError/PreflightError for status 2."""
    started = datetime.now(UTC)
    recording = None
    # Refused before anything is started or written (a bad baseline loses nothing of the last run).
    known = baselines.load(options.baseline) if options.baseline is not None else None
    chosen = selections.resolve(options.cases, options.mode) if options.cases else None
    interrupted = False
    suite_cassettes: Path | None = None  # replay reads them, record writes them, live has none
    with contextlib.ExitStack() as stack:
        life = stack.enter_context(lifecycle.Lifecycle())  # the last to exit: stops what is left
        if options.mode == "replay":
            if options.targets is not None or options.faults:
                raise UsageError("--replay needs no --targets: the cassettes' manifest describes the run")
            manifest = cassettes.read_manifest(options.cassette_dir)
            cassettes.check_replayable(
                options.cassette_dir, manifest, seed=options.seed, max_examples=options.max_examples
            )
            targets = cassettes.replay_targets(options.cassette_dir, manifest, options.apis)
            suite_cassettes = options.cassette_dir
            print(f"msgconform: replaying {options.cassette_dir} ({', '.join(targets)}), no network", file=log)
        elif options.targets is not None:
            if options.faults:
                raise UsageError("--fault applies to the embedded reference servers, not to --targets")
            targets = load_targets(options.targets).select(options.apis)
        else:
            from msgconform.servers.embedded import running_servers

            apis = _embedded_selection(options.apis)
            servers = stack.enter_context(running_servers(apis, options.faults))
            targets = parse_targets(servers.targets_toml(), source="<embedded>")
            print(f"msgconform: testing the embedded reference servers ({', '.join(apis)})", file=log)
        if chosen is not None:
            chosen = selections.resolve(options.cases, options.mode, apis=list(targets))
        # an API with no case selected: not tested
        judged = [api for api in targets if chosen is None or chosen.of(api)]
        if options.mode != "replay":
            for api in judged:
                preflight.check(targets[api])
            suite_cassettes = None
        results_dir = allure_results.fresh_results_dir(options.report_dir)  # a failed preflight keeps the last run's
        if options.mode == "record":
            recording = suite_cassettes = cassettes.fresh_folder(options.cassette_dir)
            stack.callback(shutil.rmtree, recording, True)  # gone unless committed below
            cassettes.write_manifest(recording, targets, seed=options.seed, max_examples=options.max_examples)
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="msgconform-")))
        # One pytest process per API: what one API's suite generates never depends on
        # whether another API ran before it in the same process (replay of one API alone
        # must send what the recording of several sent).
        # Up to --jobs of them at once; events and logs come back in API order all the same.
        finished_events: dict[str, list[dict]] = {}

        # The suite's own output shares stderr, so progress is one kept line per API here.
        progress = Progress("run", len(judged), log, live=False)

        def suite(api: str):
            def job(stream) -> None:
                batch = _run_suite(
                    targets.select([api]),
                    options,
                    workdir / api,
                    stream,
                    suite_cassettes,
                    life,
                    select=chosen.of(api) if chosen is not None else None,
                )
                finished_events[api] = batch
                progress.finished(api, _suite_outcome(batch))

            return job

        events: list[dict] = []
        try:
            run_in_order([suite(api) for api in judged], jobs=options.jobs, log=log)
            events = [event for api in judged for event in finished_events[api]]
        except lifecycle.Interrupted as exc:
            interrupted = True
            life.shield()
            life.stop_all()  # every child, within seconds
            print(f"msgconform: interrupted by {exc}; writing the reports for what was judged so far", file=log)
            events = [event for api in judged if api in finished_events for event in finished_events[api]]
            events += _interrupted_events([api for api in judged if api not in finished_events], workdir, str(exc))
        life.shield()  # from here on the reports must be written whole
        interrupted = interrupted or life.interrupted
        evidence = [r for path in sorted(workdir.glob("**/evidence.jsonl")) for r in allure_results.read_evidence(path)]
        if recording is not None:
            if interrupted or any(event["kind"] in ("harness", "stopped") for event in events):
                print(
                    f"msgconform: the recording did not finish cleanly; {options.cassette_dir} left as it was", file=log
                )
            else:
                cassettes.commit_folder(recording, options.cassette_dir)
                print(f"msgconform: cassettes written to {options.cassette_dir}", file=log)
    finished = datetime.now(UTC)
    results = [outcomes.fold(catalogue.load(api), targets[api].base_url, events) for api in targets]
    if chosen is not None:
        results = [chosen.apply(result) for result in results]
    block = None
    if known is not None:
        results, block = baselines.apply(known, results, started.date())
        for line in block.lines():
            print(f"msgconform: {line}", file=log)
    report = RunReport(
        mode=options.mode,
        strict=options.strict,
        seed=options.seed,
        max_examples=options.max_examples,
        started=started,
        finished=finished,
        apis=results,
        baseline=block,
        interrupted=interrupted,
    )
    options.report_dir.mkdir(parents=True, exist_ok=True)
    # The three reports always together, from the same RunReport (each written atomically).
    write_conformance_json(report, options.report_dir)
    write_junit(report, options.report_dir)
    write_markdown(report, options.report_dir)
    allure_results.write_allure_results(report, results_dir, evidence)
    status = exit_status(report)
    if report.baseline is not None and report.baseline.stale and report.strict:
        print(
            f"msgconform: --strict: {len(report.baseline.stale)} stale baseline entr"
            f"{'y' if len(report.baseline.stale) == 1 else 'ies'} in {report.baseline.file} fail the run "
            f"(the vendor mended them; ratchet it: msgconform baseline --update FILE --out FILE)",
            file=log,
        )
    return RunResult(report, status, events)


def _interrupted_events(unfinished: list[str], workdir: Path, signal_name: str) -> list[dict]:
    """What the unfinished APIs' suites had written when the run was interrupted, and a
    `stopped` event for each: their cases not judged yet become `error`."""
    events = []
    for api in unfinished:
        events += outcomes.read_events(workdir / api / "events.jsonl")
        events.append(
            {"kind": "stopped", "api": api, "test": "<run>", "details": f"the run was interrupted ({signal_name})"}
        )
    return events


def _suite_outcome(events: list[dict]) -> str:
    harness = sum(event["kind"] == "harness" for event in events)
    judged = len({event["case"] for event in events if event["kind"] == "judgement"})
    return f"suite finished, {judged} cases judged" + (f", {harness} harness errors" if harness else "")


def exit_status(report: RunReport) -> int:
    verdicts = [result.verdict(report.strict) for result in report.apis]
    if "nonconformant" in verdicts:
        return 1  # contracts.md section 1: this wins over 2, an interrupted run's 2 included
    if report.interrupted:
        return 2
    if report.baseline is not None and report.baseline.stale and report.strict:
        return 1  # contracts.md section 5: like pytest's strict xfail; verdicts stay as they are
    if "error" in verdicts or not verdicts:
        return 2
    return 0


def _embedded_selection(requested: list[str]) -> list[str]:
    available = embedded_apis()
    for api in requested:
        if api not in available:
            raise UsageError(f"--api {api}: not available in this version (available: {', '.join(available)})")
    return list(dict.fromkeys(requested)) or available


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "msgconform"


def _run_suite(
    targets: Targets,
    options: RunOptions,
    workdir: Path,
    log,
    cassette_dir: Path | None,
    life: lifecycle.Lifecycle | None = None,
    select: frozenset[str] | None = None,
) -> list[dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    targets_file = workdir / "targets.toml"
    fd = os.open(targets_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(targets.to_toml())
    events_file = workdir / "events.jsonl"
    suites = _resources.suites_dir()
    command = [sys.executable, "-m", "pytest"]
    for plugin in SUITE_PLUGINS:
        command += ["-p", plugin]
    command += [
        "-c",
        str(suites / "pytest.ini"),
        "--rootdir",
        str(suites),
        "--confcutdir",
        str(suites),
        "-q",
        "--tb=line",
        "-rN",
        "--color=no",
        "--msgconform-targets",
        str(targets_file),
        "--msgconform-events",
        str(events_file),
        "--msgconform-mode",
        options.mode,
        "--msgconform-seed",
        str(options.seed),
        "--msgconform-max-examples",
        str(options.max_examples),
        # Allure: results of the suite's tests, and the exchanges behind each case (evidence)
        "-p",
        "allure_pytest.plugin",
        "--alluredir",
        str((options.report_dir / allure_results.RESULTS_DIR).resolve()),
        "--allure-no-capture",  # captured output is not redacted; the exchanges are attached redacted
        "--msgconform-evidence",
        str(workdir / "evidence.jsonl"),
    ]
    if options.allow_attacks:
        command.append("--msgconform-allow-attacks")
    if cassette_dir is not None:
        command += ["-p", "pytest_recording.plugin", "--msgconform-cassette-dir", str(cassette_dir.resolve())]
        if options.mode == "record":
            command += ["--record-mode", "all"]
        else:  # replay: every response from the cassettes, and no socket may open
            command += ["--record-mode", "none", "--block-network"]
    if options.exchanges is not None:
        command += ["--msgconform-exchanges", str(options.exchanges)]
    if select is not None:  # --case: only the tests that can judge these (msgconform.selection)
        command += ["-p", "msgconform.plugin.selecting", "--msgconform-select", ",".join(sorted(select))]
    command += [str(suites / api) for api in targets]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    # Bytecode (and pytest's rewritten test modules) in msgconform's cache, not beside the
    # sources: no files written into a checkout or an installation, and the suite's modules
    # are compiled once rather than on every run (compiling was 3% of a suite process).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(_cache_dir() / "pycache")
    # Fixed string hashing: set iteration order must not vary between processes, or a
    # replay would generate other requests than the recording did.
    env["PYTHONHASHSEED"] = "0"
    # Hypothesis caches character tables there (costly to build on every run); no examples
    # are stored: the example database is off, so runs stay deterministic.
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(_cache_dir() / "hypothesis")
    print(f"msgconform: running the suite for {', '.join(targets)}", file=log)
    log.flush()
    life = life or lifecycle.Lifecycle(signals=())
    process = life.spawn(command, cwd=workdir, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    backstop = _backstop(targets, options)
    returncode = life.wait(process, timeout=backstop)
    stopped_by_us = None
    if returncode is None:  # past max_duration and the grace: the suite did not stop by itself
        life.stop(process)
        returncode = process.returncode
        stopped_by_us = (
            f"stopped when max_duration was reached ({backstop:g} s with the grace; the suite did not stop by itself)"
        )
    events = outcomes.read_events(events_file)
    stopped = {event["api"] for event in events if event["kind"] == "stopped"}
    killed = lifecycle.describe_exit(returncode)
    for api in targets:
        if stopped_by_us is not None:
            events.append({"kind": "stopped", "api": api, "test": "<session>", "details": stopped_by_us})
        elif killed is not None:
            events.append(
                {"kind": "stopped", "api": api, "test": "<session>", "details": f"the suite process was {killed}"}
            )
        elif returncode not in (0, 1) and api not in stopped:
            detail = f"the suite ended with pytest status {returncode}"
            events.append({"kind": "harness", "api": api, "test": "<session>", "details": detail})
    return events


def _backstop(targets: Targets, options: RunOptions) -> float | None:
    """How long the runner lets a suite run before stopping it: max_duration and a grace."""
    if options.mode == "replay":
        return None
    durations = [t.max_duration for t in targets.values() if t.max_duration is not None]
    if not durations:
        return None
    return max(durations) + max(t.timeout for t in targets.values()) + MAX_DURATION_GRACE
