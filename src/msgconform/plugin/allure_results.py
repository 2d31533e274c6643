"""Allure inside the suite: what allure-pytest writes for each test, made traceable.

allure-pytest (loaded by the runner with `--alluredir`) writes one result per pytest test,
with the steps of scenario tests. A pytest test judges many catalogued cases, so this
module adds what ties the result to them, and does two more things:

- **Exchanges**: every exchange the harness checks (`ApiHarness.exchange_listeners`) is
  attached to the result, redacted like a cassette (`msgconform.evidence`). Inside an
  `allure.step` it is attached at once, so a scenario's steps show their requests;
  otherwise it is attached when the result is written, the first `ATTACH_LIMIT` one by one
  and the rest as one text. The first failure of each case in a result also gets a curl
  command that sends the request again, secrets as environment variables.
- **Labels**: epic = the API, feature = the operation the test's exchanges belong to
  (`get + send` for a test across operations: one label, so that the tree counts it once), one
  `case` label per case it judged, severity from the most serious level judged, and a
  `level` label (the most serious *failing* level when it failed) for the categories. A
  harness error (`Recorder.harness`) makes the result broken, with its message.
- **One result per Schemathesis operation**: a lazily loaded schema runs every operation
  as a pytest subtest of ONE test. Each subtest report closes the current trace into its
  own result (`test_operation[POST /path]`, parameter `operation`, its own history id), and
  the test's own result, which would merge them, is removed from `allure-results` at the
  end of the session.
- **Evidence**: the judgements are tied to the exchange they were made on (the last one
  checked in the same test) and to what else they rest on (`Recorder.about`: the delivered
  messages a SuperOffice delivery case judged, redacted by `evidence.mail_text`); a few per
  case (the first failure first) are written as JSON lines to `--msgconform-evidence`, from
  which `msgconform.report.allure_results` gives each catalogued case its own result in the
  parent process, with those messages attached. They are attached to the test's result too,
  once each.

Nothing here passes a secret to Allure: no parameters but the operation's label, and every
text goes through the cassette redaction and a `Scrubber` of the targets' credentials.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
import weakref
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import allure
import allure_commons
import pytest
from allure_commons.model2 import Attachment, Label, Parameter, Status, StatusDetails, TestResult
from allure_commons.types import AttachmentType
from allure_commons.utils import md5

from msgconform.evidence import HttpExchange, Scrubber
from msgconform.traceability import SEVERITY, most_serious

ATTACH_LIMIT = 40  # exchanges attached one by one per result; the rest go into one text
EVIDENCE_PASSES = 2  # passing exchanges kept per case, besides its first failure


def install(config: pytest.Config, context) -> None:  # context: msgconform.plugin.RunContext
    evidence = config.getoption("msgconform_evidence")
    trace = AllureTrace(
        Path(config.option.allure_report_dir),
        context.recorder.catalogues,
        Path(evidence) if evidence else None,
        context.recorder,
    )
    context.exchange_listeners.append(trace.on_exchange)
    context.recorder.listeners.append(trace.on_record)
    config.pluginmanager.register(trace, "msgconform.allure")
    allure_commons.plugin_manager.register(trace.hooks)


class _Seen:
    """One exchange as reports show it: its text rendered once, its curl command when asked."""

    def __init__(self, http: HttpExchange, scrub: Scrubber, source: object = None) -> None:
        self.http, self._scrub = http, scrub
        # The harness's Exchange, weakly: a judgement may name it (Recorder.about), but the
        # trace must not keep every answer of a long test alive.
        self._source: weakref.ref | None = None
        if source is not None:
            with contextlib.suppress(TypeError):  # (an object without weak references is never named)
                self._source = weakref.ref(source)
        self.title, self.operation = http.title, http.operation
        self.text = http.text(scrub)

    def is_of(self, exchange: object) -> bool:
        return self._source is not None and self._source() is exchange

    @cached_property
    def curl(self) -> str:
        return self.http.curl(self._scrub)


@dataclass
class _Trace:
    """What one result collects: exchanges, judgements, harness errors."""

    start: int = field(default_factory=lambda: int(time.time() * 1000))
    exchanges: list[_Seen] = field(default_factory=list)
    curls: list[tuple[str, str]] = field(default_factory=list)  # (name, text) to attach at the end
    attached: set[int] = field(default_factory=set)  # ids of exchanges already attached
    failing: set[int] = field(default_factory=set)  # ids of exchanges a case failed on
    levels: dict[str, str] = field(default_factory=dict)  # case id -> level, every case judged
    failures: dict[str, str] = field(default_factory=dict)  # case id -> first failure
    harness: list[str] = field(default_factory=list)
    last: _Seen | None = None
    subjects: list[tuple[str, str]] = field(default_factory=list)  # (name, text) to attach at the end
    subjects_seen: set[tuple[str, str]] = field(default_factory=set)  # every subject judged, attached or to be


class AllureTrace:
    def __init__(self, results_dir: Path, catalogues: dict, evidence_path: Path | None, recorder=None) -> None:
        self.results_dir = results_dir
        self.catalogues = catalogues
        self.recorder = recorder  # its `subjects`: what the judgement being made rests on besides the exchange
        self.evidence_path = evidence_path
        self.evidence: dict[tuple[str, str], list[dict]] = {}
        self.hooks = _AllureHooks(self)
        self.item: pytest.Item | None = None
        self.trace = _Trace()
        self.segments = 0  # results written for the current item's subtests
        self._drop: set[str] = set()  # uuids of test results that the subtests' results replace
        self._scrubbers: dict[str, Scrubber] = {}

    # --- told by the harness and the recorder ------------------------------------------

    def on_exchange(self, harness, exchange) -> None:
        seen = self._render(harness, exchange)
        self.trace.exchanges.append(seen)
        self.trace.last = seen
        if self.hooks.step_depth:  # inside a scenario's step: show it there
            self._attach_now(seen)

    def on_record(self, kind: str, subject: str, ok: bool, text: str) -> None:
        if kind == "harness":
            self.trace.harness.append(text)
            return
        api, level = self._case(subject)
        if api is None:
            return  # the recorder refuses unknown cases itself
        trace, seen = self.trace, self._judged_exchange()
        trace.levels[subject] = level
        subjects = self._subjects(api)
        for item in subjects:
            if item not in trace.subjects_seen:
                trace.subjects_seen.add(item)
                if self.hooks.step_depth:  # inside a scenario's step: show it there
                    allure.attach(item[1], name=item[0], attachment_type=AttachmentType.TEXT)
                else:
                    trace.subjects.append(item)
        failed = not ok and level != "INFO"  # an INFO case never fails
        if failed and subject not in trace.failures:
            trace.failures[subject] = text or "check failed"
            if seen is not None and id(seen) not in trace.failing:
                trace.failing.add(id(seen))
                curl = (f"curl: {subject} ({seen.title})", seen.curl)
                if self.hooks.step_depth:
                    self._attach_now(seen)
                    allure.attach(curl[1], name=curl[0], attachment_type=AttachmentType.TEXT)
                else:
                    trace.curls.append(curl)
        self._keep_evidence(api, subject, not failed, text, seen, subjects)

    # --- pytest hooks ------------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem):
        self.item, self.trace, self.segments = item, _Trace(), 0
        yield

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if getattr(report, "context", None) is None or self.item is None:
            return  # not a SubtestReport (the end of one Schemathesis operation)
        # Schemathesis names the test after the operation while it runs: test_x[POST /path]
        name = report.nodeid.rpartition("::")[2]
        label = name[name.index("[") + 1 : -1] if name.endswith("]") and "[" in name else name
        self._write_segment(self.item, report, name, label)
        self.segments += 1
        self.trace = _Trace()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._drop_replaced_results()
        self._write_evidence()
        allure_commons.plugin_manager.unregister(self.hooks)

    # --- results -------------------------------------------------------------------------

    def finish(self, result: TestResult) -> None:
        """Complete allure-pytest's result for the current test before it is written."""
        if self.segments:
            self._drop.add(result.uuid)
            return
        self._complete(result, self.trace)

    def _write_segment(self, item: pytest.Item, report: pytest.TestReport, name: str, label: str) -> None:
        full_name = report.nodeid  # the test's node id with the operation: test_x.py::test_x[POST /path]
        operations = Counter(seen.operation for seen in self.trace.exchanges if seen.operation)
        result = TestResult(
            uuid=str(uuid.uuid4()),
            name=name,
            fullName=full_name,
            historyId=md5(full_name),
            testCaseId=md5(full_name),
            start=self.trace.start,
            stop=int(time.time() * 1000),
            stage="finished",
            parameters=[Parameter(name="operation", value=label)],
            labels=[
                Label("parentSuite", _api_of(item)),
                Label("suite", Path(str(item.path)).stem),
                Label("framework", "pytest"),
                Label("tag", "schemathesis"),
            ],
        )
        if report.skipped:
            result.status = Status.SKIPPED
            result.statusDetails = StatusDetails(message=_reason(report))
        elif report.failed and not isinstance(report.longrepr, str):
            # An exception. (A text is msgconform's own note of failed judgements, which
            # covers the whole test so far: this result's judgements decide instead.)
            result.status = Status.BROKEN
            result.statusDetails = StatusDetails(message=_reason(report), trace=report.longreprtext)
        else:
            result.status = Status.PASSED
        if operations:  # the operation under test (its follow-ups may call others)
            result.labels.append(Label("feature", operations.most_common(1)[0][0]))
        self._complete(result, self.trace)
        self.hooks.own.add(result.uuid)
        allure_commons.plugin_manager.hook.report_result(result=result)

    def _complete(self, result: TestResult, trace: _Trace) -> None:
        api = _api_of(self.item) if self.item is not None else "unknown"
        labels = [("epic", api)]
        operations = sorted({seen.operation for seen in trace.exchanges if seen.operation})
        if operations and not any(label.name == "feature" for label in result.labels):
            labels.append(("feature", " + ".join(operations)))  # one group: a test across operations
        labels += [("case", case_id) for case_id in sorted(trace.levels)]
        judged = most_serious(set(trace.levels.values()))
        failing = most_serious({trace.levels[case_id] for case_id in trace.failures})
        level = failing or judged
        if level:
            labels.append(("level", level))
        if judged:
            labels.append(("severity", SEVERITY[judged]))
        present = {(label.name, label.value) for label in result.labels}
        result.labels += [Label(name, value) for name, value in labels if (name, value) not in present]

        # Failed means a judgement failed; anything else that went wrong (an exception, also
        # an AssertionError, or a harness error the recorder heard of) means broken.
        lines = [f"{case_id}: {text}" for case_id, text in trace.failures.items()] + trace.harness
        if trace.failures and result.status in (Status.PASSED, Status.FAILED, None):
            result.status = Status.FAILED
            result.statusDetails = StatusDetails(message="\n".join(lines))
        elif trace.harness and result.status in (Status.PASSED, Status.FAILED, None):
            trace_text = result.statusDetails.trace if result.statusDetails else None
            result.status = Status.BROKEN
            result.statusDetails = StatusDetails(message="\n".join(lines), trace=trace_text)
        elif result.status == Status.FAILED:
            result.status = Status.BROKEN

        attachments = []  # failing exchanges always, others up to the limit, then one text for the rest
        for seen in trace.exchanges:
            if id(seen) not in trace.attached and (id(seen) in trace.failing or len(trace.attached) < ATTACH_LIMIT):
                trace.attached.add(id(seen))
                attachments.append((seen.title, seen.text))
        rest = [seen for seen in trace.exchanges if id(seen) not in trace.attached]
        if rest:
            attachments.append((f"{len(rest)} more exchanges", "\n\n".join(seen.text for seen in rest)))
        for name, text in attachments + trace.subjects + trace.curls:
            result.attachments.append(self._write_attachment(name, text))
        trace.curls.clear()
        trace.subjects.clear()

    def _write_attachment(self, name: str, text: str) -> Attachment:
        file_name = f"{uuid.uuid4()}-attachment.txt"
        allure_commons.plugin_manager.hook.report_attached_data(body=text.encode("utf-8"), file_name=file_name)
        return Attachment(name=name, source=file_name, type=AttachmentType.TEXT.mime_type)

    def _attach_now(self, seen: _Seen) -> None:
        if id(seen) not in self.trace.attached:
            self.trace.attached.add(id(seen))
            allure.attach(seen.text, name=seen.title, attachment_type=AttachmentType.TEXT)

    def _drop_replaced_results(self) -> None:
        if not self._drop:
            return
        for path in self.results_dir.glob("*-result.json"):
            try:
                if json.loads(path.read_text(encoding="utf-8")).get("uuid") in self._drop:
                    path.unlink()
            except (OSError, ValueError):
                continue

    # --- evidence for the catalogued cases --------------------------------------------------

    def _keep_evidence(
        self, api: str, case_id: str, ok: bool, text: str, seen: _Seen | None, subjects: list[tuple[str, str]]
    ) -> None:
        if seen is None and not subjects:
            return
        kept = self.evidence.setdefault((api, case_id), [])
        attached = [{"name": name, "text": body} for name, body in subjects]
        if any(
            record["title"] == (seen.title if seen else "")
            and record["exchange"] == (seen.text if seen else "")
            and record.get("attachments", []) == attached
            for record in kept
        ):
            return
        if not ok and not any(not record["ok"] for record in kept):
            kept.insert(0, self._record(api, case_id, ok, text, seen, attached))
        elif ok and sum(record["ok"] for record in kept) < EVIDENCE_PASSES:
            kept.append(self._record(api, case_id, ok, text, seen, attached))

    def _record(
        self, api: str, case_id: str, ok: bool, text: str, seen: _Seen | None, attached: list[dict[str, str]]
    ) -> dict:
        record = {
            "api": api,
            "case": case_id,
            "ok": ok,
            "judgement": text,
            "test": self.item.nodeid if self.item is not None else "<session>",
            "title": seen.title if seen else "",
            "exchange": seen.text if seen else "",
            "curl": None if ok or seen is None else seen.curl,
        }
        if attached:
            record["attachments"] = attached  # what the judgement rests on besides the exchange
        return record

    def _write_evidence(self) -> None:
        if self.evidence_path is None:
            return
        with self.evidence_path.open("w", encoding="utf-8") as handle:
            for records in self.evidence.values():
                for record in records:
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    # --- helpers --------------------------------------------------------------------------

    def _case(self, case_id: str) -> tuple[str | None, str]:
        for api, catalogue in self.catalogues.items():
            if case_id in catalogue:
                return api, catalogue[case_id].level
        return None, ""

    def _judged_exchange(self) -> _Seen | None:
        """The exchange a judgement rests on: the one `Recorder.about` names, else the last."""
        wanted = getattr(self.recorder, "subject_exchange", None)
        if wanted is not None:
            found = next((seen for seen in reversed(self.trace.exchanges) if seen.is_of(wanted)), None)
            if found is not None:
                return found
        return self.trace.last

    def _subjects(self, api: str) -> list[tuple[str, str]]:
        """The recorder's current subjects, scrubbed once more of the API's credentials."""
        subjects = getattr(self.recorder, "subjects", ())
        if not subjects:
            return []
        scrub = self._scrubbers.get(api, Scrubber())
        return [(name, scrub(text)) for name, text in subjects]

    def _render(self, harness, exchange) -> _Seen:
        scrub = self._scrubbers.get(harness.api)
        if scrub is None:
            users = harness.target.users.values()
            scrub = self._scrubbers[harness.api] = Scrubber(v for user in users for v in user.headers.values())
        base = urlsplit(harness.target.base_url)
        request = getattr(exchange.response, "request", None)
        body = getattr(request, "body", None)
        if body is None and exchange.request_content:
            body = exchange.request_content  # the bytes sent (a decoded value may be Undecodable)
        http = HttpExchange(
            method=exchange.method,
            url=f"{base.scheme}://{base.netloc}{exchange.path}",
            request_headers=list(exchange.request_headers.multi_items()),
            request_body=body.encode("utf-8") if isinstance(body, str) else body,
            status=exchange.status,
            response_headers=list(exchange.headers.multi_items()),
            response_body=exchange.content or b"",
            role=exchange.role,
            operation=exchange.operation_id if exchange.operation_id != "unknown" else "",
            credential_headers=tuple({name for user in harness.target.users.values() for name in user.headers}),
        )
        return _Seen(http, scrub, exchange)


class _AllureHooks:
    """allure-python-commons hooks: step depth, and the last word on each result before it is written."""

    def __init__(self, trace: AllureTrace) -> None:
        self.trace = trace
        self.step_depth = 0
        self.own: set[str] = set()  # results this module wrote itself (complete already)

    @allure_commons.hookimpl
    def start_step(self, uuid, title, params) -> None:
        self.step_depth += 1

    @allure_commons.hookimpl
    def stop_step(self, uuid, exc_type, exc_val, exc_tb) -> None:
        self.step_depth = max(0, self.step_depth - 1)

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: TestResult) -> None:
        if result.uuid not in self.own:
            self.trace.finish(result)


def _api_of(item: pytest.Item) -> str:
    parts = Path(str(item.path)).parts
    return parts[-2] if len(parts) >= 2 else "unknown"


def _reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2])  # a skip: (file, line, reason)
    lines = [line for line in report.longreprtext.splitlines() if line.strip()]
    return lines[-1] if lines else report.outcome
