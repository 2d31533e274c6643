"""msgconform's pytest plugin: what the suites run inside.

The runner starts `python -m pytest -p msgconform.plugin ...` with the resolved targets
file and an events file. This plugin then:

- builds one `RunContext` (targets, settings, the recorder) for the session;
- gives suites a harness per API (`msgconform_run.harness(api, ...)`);
- brackets every test so the recorder knows which test judged what, and writes the
  events when the test ends;
- marks a test failed when a check it ran recorded a failing MUST or SHOULD case, and
  records any other exception from a test as a harness error (the suite could not judge);
- ends the session when a harness's guard stopped the API's run (max_duration, or the
  circuit breaker; see `msgconform.guard`), with a `stopped` event naming the reason, so
  the cases not judged yet become `error` with it;
- with allure-pytest writing (`--alluredir`), installs `allure_results`: labels, exchanges
  and per-operation results for Allure, and the evidence behind each catalogued case.

Without `--msgconform-targets` the plugin stays inert.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from msgconform import catalogue
from msgconform.plugin import xml as _xml  # noqa: F401  (registers the XML serializer and deserializer)
from msgconform.plugin.harness import ApiHarness, RunSettings
from msgconform.plugin.recorder import Recorder
from msgconform.targets import Targets, load_targets

_KEY = pytest.StashKey["RunContext"]()


@dataclass
class RunContext:
    targets: Targets
    recorder: Recorder
    settings: RunSettings
    exchanges_path: Path | None = None
    exchange_listeners: list = field(default_factory=list)  # given to every harness (see ApiHarness)
    _harnesses: dict[str, ApiHarness] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def harness(self, api: str, **options) -> ApiHarness:
        if api not in self.targets:
            pytest.skip(f"{api} is not a target of this run")
        if api not in self._harnesses:
            self._harnesses[api] = ApiHarness(
                api=api,
                target=self.targets[api],
                recorder=self.recorder,
                settings=self.settings,
                on_exchange=self._log_exchange if self.exchanges_path else None,
                **options,
            )
            self._harnesses[api].exchange_listeners.extend(self.exchange_listeners)
        return self._harnesses[api]

    def _log_exchange(self, record: dict) -> None:
        if self.exchanges_path is None:  # only registered when there is a log to write
            return
        for key in ("body", "response_body"):
            record[key] = base64.b64encode(record[key]).decode() if record[key] else None
        line = json.dumps(record)
        with self._lock, self.exchanges_path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("msgconform")
    group.addoption("--msgconform-targets", help="resolved targets file (TOML)")
    group.addoption("--msgconform-events", help="where to append judgement events (JSON lines)")
    group.addoption("--msgconform-mode", default="live", choices=["live", "record", "replay"])
    group.addoption("--msgconform-seed", type=int, default=20261122)
    group.addoption("--msgconform-max-examples", type=int, default=25)
    group.addoption("--msgconform-allow-attacks", action="store_true", default=False)
    group.addoption("--msgconform-exchanges", help="log every request sent (method, URL, body) here")
    group.addoption("--msgconform-cassette-dir", help="where record mode writes and replay mode reads cassettes")
    group.addoption("--msgconform-evidence", help="with --alluredir: write the exchanges behind each case here")


def pytest_configure(config: pytest.Config) -> None:
    targets_path = config.getoption("msgconform_targets")
    if not targets_path:
        return
    _stop_mining_local_constants()
    if config.getoption("msgconform_mode") in ("record", "replay"):
        from msgconform.plugin import recording

        config.pluginmanager.register(recording, "msgconform.recording")
    targets = load_targets(Path(targets_path))
    catalogues = {api: catalogue.load(api) for api in targets}
    events = config.getoption("msgconform_events")
    exchanges = config.getoption("msgconform_exchanges")
    config.stash[_KEY] = RunContext(
        targets=targets,
        recorder=Recorder(Path(events) if events else None, catalogues),
        settings=RunSettings(
            mode=config.getoption("msgconform_mode"),
            seed=config.getoption("msgconform_seed"),
            max_examples=config.getoption("msgconform_max_examples"),
            allow_attacks=config.getoption("msgconform_allow_attacks"),
        ),
        exchanges_path=Path(exchanges) if exchanges else None,
    )
    if getattr(config.option, "allure_report_dir", None):  # allure-pytest is loaded and writing
        from msgconform.plugin import allure_results

        allure_results.install(config, config.stash[_KEY])


def _stop_mining_local_constants() -> None:
    """Hypothesis draws literals from every module outside site-packages (msgconform's own,
    in a checkout). Generation would then depend on where msgconform is installed and change
    with every edit of its code, and a replay would not send what the recording sent. The
    run's requests must depend on the seed and the specs alone, so that source stays empty.
    (A private Hypothesis hook: tests/unit/test_determinism.py fails if it moves.)"""
    from hypothesis.internal.conjecture import providers

    providers._get_local_constants = lambda: providers._local_constants


def _context(config: pytest.Config) -> RunContext | None:
    return config.stash.get(_KEY, None)


@pytest.fixture(scope="session")
def msgconform_run(request: pytest.FixtureRequest) -> RunContext:
    context = _context(request.config)
    if context is None:
        pytest.skip("not a msgconform run (no --msgconform-targets)")
    return context


def _api_of(item: pytest.Item) -> str:
    parts = Path(str(item.path)).parts
    return parts[-2] if len(parts) >= 2 else "unknown"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    context = _context(item.config)
    if context is not None:
        context.recorder.start_test(item.nodeid)
    yield
    if context is not None:
        context.recorder.flush()
        _stop_if_a_guard_stopped(item.session, context)


def _stop_if_a_guard_stopped(session: pytest.Session, context: RunContext) -> None:
    for api, harness in context._harnesses.items():
        reason = harness.guard.stop_reason
        if reason is not None and not session.shouldstop:
            context.recorder.stopped(api, reason)
            session.shouldstop = f"{api}: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    context = _context(item.config)
    if context is None or (call.when == "teardown" and report.passed):
        return
    if call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
        context.recorder.harness(_api_of(item), f"{item.nodeid}: {_describe(call.excinfo.value)}")
    elif call.when == "call" and report.passed:
        failures = context.recorder.failures_of_current_test()
        if failures:
            report.outcome = "failed"
            report.longrepr = "\n".join(failures)


def _describe(error: BaseException) -> str:
    miss = _cassette_miss(error)
    if miss is not None:
        from msgconform.plugin.recording import describe_miss

        return describe_miss(miss)
    return f"{type(error).__name__}: {_one_line(error)}"


def _cassette_miss(error: BaseException | None):
    """The vcrpy cassette miss inside `error` (also when wrapped by Hypothesis), if any."""
    seen = 0
    while error is not None and seen < 10:
        if type(error).__name__ == "CannotOverwriteExistingCassetteException":
            return error
        inner = getattr(error, "exceptions", None)
        if inner:
            found = next((m for m in map(_cassette_miss, inner) if m is not None), None)
            if found is not None:
                return found
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:300] + ("..." if len(text) > 300 else "")


def pytest_sessionfinish(session: pytest.Session) -> None:
    context = _context(session.config)
    if context is not None:
        context.recorder.flush()
        sys.stderr.flush()
