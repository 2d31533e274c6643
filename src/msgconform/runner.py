"""`msgconform run`: from targets to verdicts.

    targets (file, or the embedded reference servers) -> preflight -> the suite, as
    `python -m pytest` in a subprocess -> events -> outcomes -> report writers -> exit status

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

from msgconform import _resources, cassettes, catalogue, outcomes, preflight
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


@dataclass
class RunResult:
    report: RunReport
    exit_status: int


def embedded_apis() -> list[str]:
    from msgconform.servers import AVAILABLE

    return [api for api in SUPPORTED_APIS if api in AVAILABLE and api in catalogue.available_apis()]


def run(options: RunOptions, *, log=sys.stderr) -> RunResult:
    """Run the suite and write the reports; raises UsageError/PreflightError for status 2."""
    started = datetime.now(UTC)
    recording = None
    suite_cassettes: Path | None = None  # replay reads them, record writes them, live has none
    with contextlib.ExitStack() as stack:
        if options.mode == "replay":
            if options.targets is not None or options.faults:
                raise UsageError("--replay needs no --targets: the cassettes' manifest describes the run")
            manifest = cassettes.read_manifest(options.cassette_dir)
            cassettes.check_replayable(options.cassette_dir, manifest, seed=options.seed,
                                       max_examples=options.max_examples)
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
        if options.mode != "replay":
            for api in targets:
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
        events = []
        # The suite's own output shares stderr, so progress is one kept line per API here.
        progress = Progress("run", len(targets), log, live=False)
        for api in targets:
            api_events = _run_suite(targets.select([api]), options, workdir / api, log, suite_cassettes)
            events += api_events
            progress.finished(api, _suite_outcome(api_events))
        evidence = [r for path in sorted(workdir.glob("**/evidence.jsonl")) for r in allure_results.read_evidence(path)]
        if recording is not None:
            if any(event["kind"] == "harness" for event in events):
                print(f"msgconform: the recording did not finish cleanly; {options.cassette_dir} left as it was",
                      file=log)
            else:
                cassettes.commit_folder(recording, options.cassette_dir)
                print(f"msgconform: cassettes written to {options.cassette_dir}", file=log)
    finished = datetime.now(UTC)
    report = RunReport(
        mode=options.mode,
        strict=options.strict,
        seed=options.seed,
        max_examples=options.max_examples,
        started=started,
        finished=finished,
        apis=[outcomes.fold(catalogue.load(api), targets[api].base_url, events) for api in targets],
    )
    options.report_dir.mkdir(parents=True, exist_ok=True)
    if any(item.checked for result in report.apis for item in result.cases) or not _only_errors(report):
        write_conformance_json(report, options.report_dir)
    write_junit(report, options.report_dir)
    write_markdown(report, options.report_dir)
    allure_results.write_allure_results(report, results_dir, evidence)
    return RunResult(report, exit_status(report))


def _suite_outcome(events: list[dict]) -> str:
    harness = sum(event["kind"] == "harness" for event in events)
    judged = len({event["case"] for event in events if event["kind"] == "judgement"})
    return f"suite finished, {judged} cases judged" + (f", {harness} harness errors" if harness else "")


def exit_status(report: RunReport) -> int:
    verdicts = [result.verdict(report.strict) for result in report.apis]
    if "nonconformant" in verdicts:
        return 1
    if "error" in verdicts or not verdicts:
        return 2
    return 0


def _only_errors(report: RunReport) -> bool:
    return all(item.outcome == "error" for result in report.apis for item in result.cases)


def _embedded_selection(requested: list[str]) -> list[str]:
    available = embedded_apis()
    for api in requested:
        if api not in available:
            raise UsageError(f"--api {api}: not available in this version (available: {', '.join(available)})")
    return list(dict.fromkeys(requested)) or available


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "msgconform"


def _run_suite(targets: Targets, options: RunOptions, workdir: Path, log, cassette_dir: Path | None) -> list[dict]:
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
        "-c", str(suites / "pytest.ini"),
        "--rootdir", str(suites),
        "--confcutdir", str(suites),
        "-q", "--tb=line", "-rN", "--color=no",
        "--msgconform-targets", str(targets_file),
        "--msgconform-events", str(events_file),
        "--msgconform-mode", options.mode,
        "--msgconform-seed", str(options.seed),
        "--msgconform-max-examples", str(options.max_examples),
        # Allure: results of the suite's tests, and the exchanges behind each case (evidence)
        "-p", "allure_pytest.plugin", "--alluredir", str((options.report_dir / allure_results.RESULTS_DIR).resolve()),
        "--allure-no-capture",  # captured output is not redacted; the exchanges are attached redacted
        "--msgconform-evidence", str(workdir / "evidence.jsonl"),
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
    command += [str(suites / api) for api in targets]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # Fixed string hashing: set iteration order must not vary between processes, or a
    # replay would generate other requests than the recording did.
    env["PYTHONHASHSEED"] = "0"
    # Hypothesis caches character tables there (costly to build on every run); no examples
    # are stored: the example database is off, so runs stay deterministic.
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(_cache_dir() / "hypothesis")
    print(f"msgconform: running the suite for {', '.join(targets)}", file=log)
    log.flush()
    completed = subprocess.run(command, cwd=workdir, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    events = outcomes.read_events(events_file)
    if completed.returncode not in (0, 1):
        detail = f"the suite ended with pytest status {completed.returncode}"
        events += [{"kind": "harness", "api": api, "test": "<session>", "details": detail} for api in targets]
    return events
