"""Delivered messages in the reports (issue 14, item 7): each delivery-judging case's Allure
result carries the messages it judged, redacted.

Three steps, each pinned: `evidence.mail_text` renders a delivery with the sinks' values
and the targets' credentials replaced; the suite-side trace (`plugin.allure_results`) ties
a judgement made inside `Recorder.about` to those texts and to the exchange it names; the
parent's writer (`report.allure_results`) attaches them to the case's own result.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from msgconform import catalogue, cassettes
from msgconform.evidence import HttpExchange, Scrubber, mail_text
from msgconform.outcomes import ApiResult, CaseOutcome
from msgconform.plugin.allure_results import AllureTrace, _Seen
from msgconform.plugin.recorder import Recorder
from msgconform.report import RunReport, allure_results
from msgconform.sink import Delivery

SINK_USER = "msgconform-0123456789ab"
SINK_PASSWORD = "sink-SECRET-password-xyz"
BASIC = "bXNnY29uZm9ybTpTRUNSRVQ="


@pytest.fixture
def run_values():
    saved = dict(cassettes._RUN_VALUES)
    cassettes.register_run_value(SINK_USER)
    cassettes.register_run_value(SINK_PASSWORD)
    cassettes.register_run_value("127.0.0.1:40123", cassettes.SMTP_SINK_ADDRESS)
    yield
    cassettes._RUN_VALUES.clear()
    cassettes._RUN_VALUES.update(saved)


def delivery(subject: str = "[msgconform] plain T0123456789") -> Delivery:
    raw = (
        f"Subject: {subject}\r\nFrom: agent@example.test\r\nTo: msgconform+T0123456789-to1@example.test\r\n"
        f"X-Echo: {SINK_USER} {SINK_PASSWORD} via 127.0.0.1:40123 with Basic {BASIC}\r\n\r\nbody\r\n"
    ).encode()
    return Delivery("agent@example.test", ("msgconform+T0123456789-to1@example.test",), raw, tls=True,
                    authenticated=True)


def test_a_delivered_message_is_shown_with_its_envelope_and_no_secret(run_values):
    text = mail_text(delivery(), Scrubber([f"Basic {BASIC}"]))
    assert text.startswith("MAIL FROM: agent@example.test\nRCPT TO: msgconform+T0123456789-to1@example.test\n")
    assert "TLS: yes, AUTH: yes" in text and "Subject: [msgconform] plain T0123456789" in text
    for secret in (SINK_USER, SINK_PASSWORD, BASIC, "40123"):
        assert secret not in text, text
    assert cassettes.SMTP_SINK_ADDRESS in text


def test_a_long_message_is_cut():
    big = Delivery("a@example.test", ("b@example.test",), b"Subject: x\r\n\r\n" + b"y" * 200_000)
    text = mail_text(big)
    assert len(text) < 70_000 and "more bytes not shown" in text


class _Exchange:
    """Stands for the harness's Exchange (the trace holds it weakly)."""


def _seen(status: int, source: _Exchange) -> _Seen:
    http = HttpExchange(method="POST", url="http://127.0.0.1:1/api/v1/Agents/EMail/SendEMails", status=status)
    return _Seen(http, Scrubber(), source=source)


def test_a_judgement_about_deliveries_keeps_them_and_the_exchange_it_names(tmp_path):
    recorder = Recorder(None, {"superoffice": catalogue.load("superoffice")})
    evidence = tmp_path / "evidence.jsonl"
    trace = AllureTrace(tmp_path, recorder.catalogues, evidence, recorder)
    recorder.listeners.append(trace.on_record)
    sources = _Exchange(), _Exchange()
    refused, control = _seen(401, sources[0]), _seen(200, sources[1])
    trace.trace.exchanges += [refused, control]
    trace.trace.last = control  # the last exchange checked is not the one judged
    shown = [("delivered T1 #1 of 1", "MAIL FROM: a@example.test\n...")]
    with recorder.about(shown, sources[0]):
        recorder.judge("SO-AUTH-001", False, "answered 401, and the e-mail was delivered all the same")
    recorder.judge("SO-HTTP-001", True)  # outside: the last exchange, no subjects
    assert recorder.subjects == () and recorder.subject_exchange is None
    trace._write_evidence()
    records = {r["case"]: r for r in map(json.loads, evidence.read_text().splitlines())}
    auth = records["SO-AUTH-001"]
    assert auth["title"].endswith("-> 401") and auth["curl"]
    assert auth["attachments"] == [{"name": "delivered T1 #1 of 1", "text": "MAIL FROM: a@example.test\n..."}]
    assert records["SO-HTTP-001"]["title"].endswith("-> 200") and "attachments" not in records["SO-HTTP-001"]
    assert trace.trace.subjects == shown  # the test's own result gets them too, once


def test_the_case_result_attaches_the_delivered_messages(tmp_path):
    case = catalogue.load("superoffice")["SO-MAIL-001"]
    moment = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    report = RunReport(mode="live", strict=False, seed=1, max_examples=3, started=moment, finished=moment,
                       apis=[ApiResult(api="superoffice", target="http://127.0.0.1:1",
                                       cases=[CaseOutcome(case, "pass", 2)])])
    evidence = [{"api": "superoffice", "case": "SO-MAIL-001", "ok": True, "judgement": "", "test": "t",
                 "title": "POST /api/v1/Agents/EMail/SendEMails -> 200", "exchange": "POST ...", "curl": None,
                 "attachments": [{"name": "delivered T1 #1 of 2", "text": "MAIL FROM: one"},
                                 {"name": "delivered T1 #2 of 2", "text": "MAIL FROM: two"}]}]
    allure_results.write_allure_results(report, tmp_path, evidence)
    [result] = [json.loads(p.read_text()) for p in tmp_path.glob("*-result.json")]
    names = [a["name"] for a in result["attachments"]]
    assert names[:3] == ["passed: POST /api/v1/Agents/EMail/SendEMails -> 200",
                         "passed: delivered T1 #1 of 2", "passed: delivered T1 #2 of 2"]
    texts = [(tmp_path / a["source"]).read_text() for a in result["attachments"][1:3]]
    assert texts == ["MAIL FROM: one", "MAIL FROM: two"]
