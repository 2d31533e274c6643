"""The four situations of issue 12, replayed exactly: requests the suite once sent, answered
as servers written independently from the seeds answered them, judged by the suite's own
response checks (the registry the suites fill, run by the harness as in a real run).

1. itslearning, XML send with text inside the Bcc collection element (`AAA`, no items),
   read by the independent server as an empty Bcc list and sent (201): conformant.
2. HighQ, XML conversation whose message holds `<attachments i:nil="true"/>` twice,
   accepted (201): conformant.
3. HighQ, `<messages>` holding two nil `<message>` elements, answered with two messageids by
   a server that accepts messages without html: conformant (two messages on the wire).
4. HighQ, a conversation of several messages with html answered with one messageid, or
   with one id shared by all: HQ-CONV-006 fails for both.

Each exchange is judged as a generated request is (`generated="negative"` where the suite
had generated it as negative), so the verdict comes from the bytes alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from msgconform import catalogue
from msgconform.plugin.harness import ApiHarness, RunSettings
from msgconform.plugin.recorder import Recorder
from msgconform.servers import TARGET_USERS
from msgconform.targets import parse_targets

pytestmark = pytest.mark.quality

BASES = {"itslearning": "http://127.0.0.1:9", "highq": "http://127.0.0.1:9/demo/api"}
PATHS = {"itslearning": "/restapi/personal/messages/send/v1", "highq": "/4/conversations/"}
XSI = 'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
ENTITIES = 'xmlns="http://schemas.datacontract.org/2004/07/Itslearning.RestApi.Entities"'
ARRAYS = 'xmlns:d2p1="http://schemas.microsoft.com/2003/10/Serialization/Arrays"'


def _harness(api: str) -> tuple[ApiHarness, list[tuple[str, bool, str]]]:
    import suites.highq.checks  # noqa: F401 - registers the suites' response checks
    import suites.itslearning.checks  # noqa: F401

    lines = [f"[{api}]", f'base_url = "{BASES[api]}"']
    for role, user in TARGET_USERS[api]().items():
        value = f'"{user["id"]}"' if isinstance(user["id"], str) else user["id"]
        lines += [f"[{api}.users.{role}]", f"id = {value}", f'token = "{user["token"]}"']
    targets = parse_targets("\n".join(lines))
    recorder = Recorder(None, {api: catalogue.load(api)})
    verdicts: list[tuple[str, bool, str]] = []
    recorder.listeners.append(lambda kind, case_id, ok, text: verdicts.append((case_id, ok, text)))
    harness = ApiHarness(api=api, target=targets[api], recorder=recorder,
                         settings=RunSettings(mode="live", seed=0, max_examples=1), id_fields={})
    return harness, verdicts


def judge(api: str, body: bytes, content_type: str, answer: Callable[[httpx.Request], httpx.Response], *,
          generated: str | None, accept: str = "application/json") -> dict[str, list[tuple[bool, str]]]:
    """Send `body` exactly to a stub answering as the independent server did; every
    response check of the API judges the exchange. Returns case id -> verdicts."""
    harness, verdicts = _harness(api)
    headers = {**harness.headers_of("sender"), "Content-Type": content_type, "Accept": accept}
    with httpx.Client(transport=httpx.MockTransport(answer), base_url=BASES[api]) as client:
        response = client.post(BASES[api] + PATHS[api], content=body, headers=headers)
    exchange = harness.exchange_from_httpx(response, "sender", generated=generated)
    assert exchange.request_content == body  # judged on exactly these bytes
    harness.run_checks(exchange)
    by_case: dict[str, list[tuple[bool, str]]] = {}
    for case_id, ok, text in verdicts:
        by_case.setdefault(case_id, []).append((ok, text))
    return by_case


def failures(by_case: dict[str, list[tuple[bool, str]]]) -> dict[str, str]:
    return {case_id: text for case_id, seen in by_case.items() for ok, text in seen if not ok}


def streamed(status: int, content: bytes, headers: dict[str, str]) -> httpx.Response:
    """A stub's answer that the client reads as it reads a real one (so it has an elapsed time)."""
    return httpx.Response(status, content=iter([content]), headers=headers)


def created_answer(*message_ids: int, xml: bool = False) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        if xml:
            items = "".join(f"<message><messageid>{m}</messageid></message>" for m in message_ids)
            content = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><conversation>'
                       f"<conversationid>43</conversationid><messages>{items}</messages></conversation>").encode()
            return streamed(201, content, {"Content-Type": "application/xml"})
        value = {"conversationid": 43, "messages": {"message": [{"messageid": m} for m in message_ids]}}
        return streamed(201, json.dumps(value).encode(), {"Content-Type": "application/json"})

    return answer


def test_1_itslearning_text_inside_the_bcc_element_is_an_empty_list():
    body = (f"<MessageToSend {XSI} {ENTITIES}><BccPersonIds>AAA</BccPersonIds>"
            f"<Subject>[msgconform] fuzz</Subject><ToPersonIds {ARRAYS}><d2p1:int>1002</d2p1:int></ToPersonIds>"
            f"</MessageToSend>").encode()

    def sent(request: httpx.Request) -> httpx.Response:
        return streamed(201, b"", {"Location": "http://127.0.0.1:9/restapi/personal/messages/7/v1"})

    verdicts = judge("itslearning", body, "application/xml", sent, generated="negative")
    assert not failures(verdicts), failures(verdicts)
    assert "ITS-HTTP-002" not in verdicts  # not negative for DataContract: nothing to demand
    assert verdicts["ITS-SEND-001"] == [(True, "")]  # and the exchange was judged


def test_1b_the_same_send_with_an_unconvertible_leaf_is_still_negative():
    """The control: a leaf DataContract cannot convert makes the same send negative."""
    body = (f"<MessageToSend {XSI} {ENTITIES}><ReplyToMessageId>abc</ReplyToMessageId>"
            f"<ToPersonIds {ARRAYS}><d2p1:int>1002</d2p1:int></ToPersonIds></MessageToSend>").encode()

    def sent(request: httpx.Request) -> httpx.Response:
        return streamed(201, b"", {"Location": "http://127.0.0.1:9/restapi/personal/messages/7/v1"})

    verdicts = judge("itslearning", body, "application/xml", sent, generated="negative")
    assert "ReplyToMessageId" in failures(verdicts)["ITS-HTTP-002"]


def test_2_highq_two_nil_attachments_are_no_attachments():
    body = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><conversation {XSI}><recipients><users>'
            f"<user><userid>3002</userid></user></users></recipients><messages><message>"
            f'<html><![CDATA[<p>hi</p>]]></html><attachments i:nil="true"/><attachments i:nil="true"/>'
            f"</message></messages></conversation>").encode()
    verdicts = judge("highq", body, "application/xml", created_answer(1160, xml=True), generated="negative",
                     accept="application/xml")
    assert not failures(verdicts), failures(verdicts)
    assert "HQ-HTTP-002" not in verdicts
    assert verdicts["HQ-CONV-005"] == [(True, "")]


def test_3_highq_two_nil_messages_are_two_messages():
    body = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><conversation {XSI}><recipients><users>'
            f'<user><userid>3002</userid></user></users></recipients><messages><message i:nil="true"/>'
            f'<message i:nil="true"/></messages></conversation>').encode()
    for generated in ("negative", "positive"):
        verdicts = judge("highq", body, "application/xml", created_answer(1160, 1161), generated=generated)
        assert not failures(verdicts), failures(verdicts)
        assert "HQ-CONV-005" not in verdicts  # two messages went over the wire, not one
        assert "HQ-CONV-006" not in verdicts  # they have no html: not that case's question


@pytest.mark.parametrize("answer_ids", [(1160,), (1160, 1160, 1160)], ids=["one-id", "shared-id"])
@pytest.mark.parametrize("media_type", ["application/json", "application/xml"])
def test_4_highq_several_messages_need_one_distinct_id_each(answer_ids, media_type):
    messages = [f"<p>[msgconform] {n}</p>" for n in range(3)]
    if media_type == "application/json":
        value = {"recipients": {"users": {"user": [{"userid": 3002}]}},
                 "messages": {"message": [{"html": html} for html in messages]}}
        body = json.dumps(value).encode()
    else:
        items = "".join(f"<message><html><![CDATA[{html}]]></html></message>" for html in messages)
        body = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><conversation><recipients><users>'
                f"<user><userid>3002</userid></user></users></recipients><messages>{items}</messages>"
                f"</conversation>").encode()
    verdicts = judge("highq", body, media_type, created_answer(*answer_ids), generated=None)
    assert set(failures(verdicts)) == {"HQ-CONV-006"}, failures(verdicts)
    fixed = judge("highq", body, media_type, created_answer(1160, 1161, 1162), generated=None)
    assert not failures(fixed) and fixed["HQ-CONV-006"] == [(True, "")]

