"""The HighQ reference server, over real HTTP: faithful behaviour, then every fault and
variant of faults.yaml doing what its entry says."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from msgconform import specs
from msgconform.servers import TARGET_USERS
from msgconform.servers.embedded import running_servers
from msgconform.xmlcodec import XmlCodec
from tests.reference_servers import FaultChecks, ServerClient, faithful, with_fault

pytestmark = pytest.mark.integration

PATH = "/4/conversations/"
SENDER, RECIPIENT, COLLEAGUE = "hq-sender-token", "hq-recipient-token", "hq-colleague-token"
JSON = {"Accept": "application/json"}
XML = {"Accept": "application/xml"}
CODEC = XmlCodec(specs.load("highq"))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def conversation(*userids: Any, html: Any = "<p>Hello</p>", messages: int = 1) -> dict[str, Any]:
    return {
        "recipients": {"users": {"user": [{"userid": u} for u in (userids or (3002,))]}},
        "messages": {"message": [{"html": html} for _ in range(messages)]},
    }


class Hq(ServerClient):
    """A client for one running server, with the few calls the tests repeat."""

    API = "highq"

    def create(self, body: Any = None, token: str = SENDER, **headers: str) -> httpx.Response:
        return self.http.post(PATH, json=conversation() if body is None else body, headers=auth(token) | headers)

    def raw(self, content: bytes, content_type: str | None, token: str = SENDER, **headers: str) -> httpx.Response:
        extra = {"Content-Type": content_type} if content_type else {}
        return self.http.post(PATH, content=content, headers=auth(token) | extra | headers)

    def xml(self, body: Any = None, **headers: str) -> httpx.Response:
        data = CODEC.dumps(conversation() if body is None else body, "Conversation")
        return self.raw(data, "application/xml", **headers)


hq = faithful(Hq)
server_with = with_fault(Hq)


# --- faithful behaviour -------------------------------------------------------------------


def test_the_base_url_ends_with_instance_and_api_and_the_users_match_the_targets() -> None:
    with running_servers(["highq"]) as servers:
        assert servers.base_urls["highq"].endswith("/demo/api")
        assert "\n[highq.users.recipient]\nid = 3002\n" in servers.targets_toml()
    assert TARGET_USERS["highq"]() == {
        "sender": {"id": 3001, "name": "Sam Sender", "token": SENDER},
        "recipient": {"id": 3002, "name": "Rita Recipient", "token": RECIPIENT},
    }


def test_a_new_conversation_answers_201_with_its_ids_in_json(hq: Hq) -> None:
    first, second = hq.create(), hq.create(conversation(3002, 3003, messages=2))
    assert first.status_code == 201 and first.headers["content-type"] == "application/json"
    body = first.json()
    assert list(body) == ["conversationid", "messages"]
    assert isinstance(body["conversationid"], int)
    (message,) = body["messages"]["message"]
    assert isinstance(message["messageid"], int) and message["messageid"] != body["conversationid"]
    assert len(second.json()["messages"]["message"]) == 2  # one messageid per message
    assert second.json()["conversationid"] > body["conversationid"]
    assert specs.validator(specs.load("highq"), "#/components/schemas/ConversationCreated").is_valid(body)


def test_a_new_conversation_in_xml_answers_the_documented_xml(hq: Hq) -> None:
    response = hq.xml(conversation(html="<p>a & b</p>"), **XML)
    assert response.status_code == 201 and response.headers["content-type"] == "application/xml"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<conversation>')
    assert CODEC.problems(response.content, "ConversationCreated") == []
    value = CODEC.loads(response.content, "ConversationCreated")
    assert isinstance(value["conversationid"], int) and len(value["messages"]["message"]) == 1
    seed_form = (b"<conversation><recipients><users><user><userid>3002</userid></user></users></recipients>"
                 b"<messages><message><html><![CDATA[<b>hi</b>]]> </html></message></messages></conversation>")
    assert hq.raw(seed_form, "application/xml; charset=utf-8").status_code == 201


def test_either_form_of_a_one_element_list_is_read(hq: Hq) -> None:
    single = {"recipients": {"users": {"user": {"userid": 3002}}}, "messages": {"message": {"html": "x"}}}
    assert hq.create(single).status_code == 201
    assert hq.xml(single).status_code == 201
    assert hq.create(conversation(3001)).status_code == 201  # writing to oneself is not forbidden
    assert hq.create(conversation(html="")).status_code == 201  # nor an empty body


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "recipient"),
        (conversation(3002, messages=0), "message"),
        ({"recipients": {"users": {"user": []}}, "messages": conversation()["messages"]}, "recipient"),
        (conversation(0), "No user with id 0"),
        (conversation(99999), "No user with id 99999"),
        ({"recipients": {"users": {"user": [{}]}}, "messages": conversation()["messages"]}, "no userid"),
        ({**conversation(), "messages": {"message": [{}]}}, "no html"),
        ({**conversation(), "messages": {"message": [{"html": "x", "attachments": {"attachment": [{"id": 5}]}}]}},
         "No file with id 5"),
    ],
)
def test_undeliverable_conversations_answer_400_with_the_error_object(hq: Hq, body: dict, words: str) -> None:
    response = hq.create(body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert words in error["summary"] and error["summary"].startswith("Problem with parameters")
    assert isinstance(error["ref"], str) and error["ref"] in error["link"]


@pytest.mark.parametrize(
    "body",
    [
        [], "text", None, 5,
        {"recipients": "x"}, {"recipients": None}, {"recipients": {"users": []}},
        {"recipients": {"users": {"user": "x"}}}, {"recipients": {"users": {"user": [5]}}},
        conversation("3002"), conversation(3002.0), conversation(True), conversation(2**70),
        conversation(html=5), conversation(html=None), {**conversation(), "messages": {"message": 5}},
        {**conversation(), "messages": {"message": [{"html": "x", "attachments": {"attachment": [{"id": None}]}}]}},
    ],
)
def test_wrongly_typed_bodies_answer_400(hq: Hq, body: Any) -> None:
    response = hq.raw(json.dumps(body).encode(), "application/json")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["summary"].startswith("Problem with parameters")


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{", "application/json", 400),
        (b"", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"<conversation><recipients>", "application/xml", 400),
        (b"<other/>", "application/xml", 400),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><conversation>&a;</conversation>', "application/xml", 400),
        (b"[" * 100_000, "application/json", 400),
        (b'{"recipients":1}', "text/plain", 415),
        (b'{"recipients":1}', None, 415),
        (b"a=b", "application/x-www-form-urlencoded", 415),
    ],
)
def test_garbage_gets_a_4xx_never_a_5xx(hq: Hq, content: bytes, content_type: str | None, status: int) -> None:
    response = hq.raw(content, content_type)
    assert response.status_code == status, response.text
    assert "summary" in response.json()["error"]


def test_errors_follow_accept_and_have_the_xml_root_error(hq: Hq) -> None:
    as_xml = hq.raw(b"{", "application/json", **XML)
    assert as_xml.headers["content-type"] == "application/xml"
    assert as_xml.content.lstrip().startswith(b"<?xml") and b"<error>" in as_xml.content
    assert CODEC.problems(as_xml.content, "ErrorDetail") == []
    assert CODEC.loads(as_xml.content, "ErrorDetail")["summary"].startswith("Problem with parameters")


def test_requests_without_a_valid_token_answer_401(hq: Hq) -> None:
    for headers in ({}, auth("wrong"), {"Authorization": "Basic aHEtc2VuZGVyLXRva2Vu"}):
        response = hq.http.post(PATH, json=conversation(), headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["summary"] == "Not authorised"
        assert response.headers["www-authenticate"] == "Bearer"
    assert hq.create(token=RECIPIENT).status_code == 201 and hq.create(token=COLLEAGUE).status_code == 201


def test_odd_paths_and_methods(hq: Hq) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        response = hq.http.request(method, PATH, headers=auth(SENDER))
        assert response.status_code == 405 and response.headers["allow"] == "POST", method
    assert hq.http.post("/4/other/", headers=auth(SENDER)).status_code == 404
    other_instance = httpx.URL(hq.base_url).copy_with(path="/other/api" + PATH)
    assert hq.http.post(other_instance, json=conversation(), headers=auth(SENDER)).status_code == 201


def test_every_app_has_its_own_state() -> None:
    with running_servers(["highq"]) as first, running_servers(["highq"]) as second:
        a, b = Hq(first.base_urls["highq"]), Hq(second.base_urls["highq"])
        assert a.create().json()["conversationid"] == b.create().json()["conversationid"] == 1


# --- faults and variants: each one changes what its entry says -----------------------------

check = FaultChecks("highq")


@check("json-body-rejected")
def _(s: Hq) -> None:
    assert s.create().status_code == 400
    assert s.xml().status_code == 201


@check("success-202")
def _(s: Hq) -> None:
    response = s.create()
    assert response.status_code == 202 and "conversationid" in response.json()


@check("no-conversation-id")
def _(s: Hq) -> None:
    assert "conversationid" not in s.create().json()
    assert b"<conversationid>" not in s.create(**XML).content


@check("no-message-ids")
def _(s: Hq) -> None:
    assert s.create().json()["messages"] == {"message": []}


@check("xml-body-rejected")
def _(s: Hq) -> None:
    assert s.xml().status_code == 400
    assert s.create().status_code == 201


@check("xml-served-as-json")
def _(s: Hq) -> None:
    response = s.create(**XML)
    assert response.headers["content-type"] == "application/json" and "conversationid" in response.json()


@check("xml-wrong-root")
def _(s: Hq) -> None:
    content = s.create(**XML).content
    assert b"<conversationResponse>" in content and b"<conversationid>" in content and b"<conversation>" not in content


@check("json-text-plain")
def _(s: Hq) -> None:
    response = s.create()
    assert response.headers["content-type"] == "text/plain" and "conversationid" in response.json()
    assert s.create({}).headers["content-type"] == "application/json"  # errors keep their type


@check("json-ids-as-strings")
def _(s: Hq) -> None:
    body = s.create().json()
    ids = (body["conversationid"], body["messages"]["message"][0]["messageid"])
    assert all(isinstance(i, str) and i.isdigit() for i in ids)
    assert b"<conversationid>" in s.create(**XML).content


@check("error-body-text")
def _(s: Hq) -> None:
    response = s.create({})
    assert response.status_code == 400 and response.headers["content-type"] == "text/plain"
    assert response.text.startswith("Problem with parameters")


@check("validation-skipped")
def _(s: Hq) -> None:
    assert s.create({}).status_code == 201
    assert s.create(conversation(0)).status_code == 201
    assert s.create(conversation(messages=0)).status_code == 201
    assert s.create(conversation("x")).status_code == 400  # types are still checked


@check("auth-ignored")
def _(s: Hq) -> None:
    assert s.http.post(PATH, json=conversation()).status_code == 201


@check("500-on-malformed")
def _(s: Hq) -> None:
    assert s.raw(b"{", "application/json").status_code == 500
    assert s.create(conversation("x")).status_code == 500
    assert s.create({}).status_code == 400  # well-formed, just undeliverable


@check("lenient-types")
def _(s: Hq) -> None:
    assert s.create(conversation("x")).status_code == 201  # no valid recipient left: the recipient
    assert s.create({**conversation(), "messages": 5}).status_code == 201
    assert s.create({"recipients": {"users": {"user": []}}, "messages": conversation()["messages"]}).status_code == 400


@check("bad-input-422")
def _(s: Hq) -> None:
    assert s.create({}).status_code == 422
    assert s.raw(b"{", "application/json").status_code == 422


@check("success-200")
def _(s: Hq) -> None:
    assert s.create().status_code == 200 and s.xml().status_code == 200


@check("large-ids")
def _(s: Hq) -> None:
    body = s.create().json()
    assert body["conversationid"] > 2**32 and body["messages"]["message"][0]["messageid"] > 2**32


@check("single-object-list")
def _(s: Hq) -> None:
    assert isinstance(s.create().json()["messages"]["message"], dict)
    assert isinstance(s.create(conversation(messages=2)).json()["messages"]["message"], list)


@check("numeric-ref")
def _(s: Hq) -> None:
    assert isinstance(s.create({}).json()["error"]["ref"], int)


@check("charset-params")
def _(s: Hq) -> None:
    assert s.create().headers["content-type"] == "application/json; charset=UTF-8"
    assert s.create(**XML).headers["content-type"] == "application/xml; charset=UTF-8"


@check("validation-403")
def _(s: Hq) -> None:
    response = s.create({})
    assert response.status_code == 403 and response.json()["error"]["summary"].startswith("Validation failed")
    assert s.create(conversation("x")).status_code == 400  # a type error is still 400


@check("extra-fields")
def _(s: Hq) -> None:
    body = s.create().json()
    assert "subject" in body and "createddate" in body["messages"]["message"][0]


@check("xml-no-declaration")
def _(s: Hq) -> None:
    content = s.create(**XML).content
    assert content.startswith(b"<conversation>") and b"\n" not in content


@check("small-body-limit")
def _(s: Hq) -> None:
    assert s.create(conversation(html="<p>" + "x" * 2000 + "</p>")).status_code == 413
    assert s.create().status_code in (200, 201)


@check("one-messageid-for-many")
def _(s: Hq) -> None:
    assert len(s.create(conversation(messages=3)).json()["messages"]["message"]) == 1
    assert len(s.create(conversation(messages=1)).json()["messages"]["message"]) == 1


@check("shared-messageid")
def _(s: Hq) -> None:
    ids = [m["messageid"] for m in s.create(conversation(messages=3)).json()["messages"]["message"]]
    assert len(ids) == 3 and len(set(ids)) == 1


@check("binder-leniency")
def _(s: Hq) -> None:
    assert s.create(conversation("3002")).status_code == 201  # a numeric string is an id
    assert s.create(conversation(3002.7)).status_code == 201  # truncated, as Jackson does
    assert s.create(conversation(html=5)).status_code == 201  # a scalar for a String
    wrapper_text = (b"<conversation><recipients><users><user><userid>3002</userid></user></users></recipients>"
                    b"<messages><message><html>x</html><attachments>AAA</attachments><extra>1</extra>"
                    b"</message></messages></conversation>")
    assert s.raw(wrapper_text, "application/xml").status_code == 201
    body = conversation()
    body["messages"]["message"][0]["attachments"] = None
    assert s.create(body).status_code == 201
    assert s.create(conversation("abc")).status_code == 400  # unconvertible leaves are refused
    assert s.create(conversation(html={})).status_code == 400


@check("message-without-html")
def _(s: Hq) -> None:
    assert s.create({"recipients": conversation()["recipients"], "messages": {"message": [{}]}}).status_code == 201
    assert s.create(conversation(html={})).status_code == 400


@check("error-summary-only")
def _(s: Hq) -> None:
    assert s.create({}).json() == {"error": {"summary": s.create({}).json()["error"]["summary"]}}
    assert b"<ref>" not in s.create({}, **XML).content


ENTITIES_BODY = (b'<?xml version="1.0"?><!DOCTYPE conversation [<!ENTITY a "canary-"><!ENTITY b "joined">]>'
                 b"<conversation><recipients><users><user><userid>&a;&b;</userid></user></users></recipients>"
                 b"<messages><message><html>x</html></message></messages></conversation>")
BOMB_BODY = (b'<?xml version="1.0"?><!DOCTYPE conversation [' + b"".join(
    b'<!ENTITY l%d "%s">' % (i, b"&l%d;" % (i - 1) * 10 if i else b"lol") for i in range(8)) + b"]>"
    b"<conversation><messages><message><html>&l7;</html></message></messages></conversation>")


def test_a_dtd_is_refused_without_expanding(hq: Hq) -> None:
    response = hq.raw(ENTITIES_BODY, "application/xml")
    assert response.status_code == 400 and "canary-joined" not in response.text


@check("xxe-expanded")
def _(s: Hq) -> None:
    response = s.raw(ENTITIES_BODY, "application/xml")
    assert response.status_code == 400 and "canary-joined" in response.text


@check("entity-bomb-slow")
def _(s: Hq) -> None:
    import time

    start = time.monotonic()
    assert s.raw(BOMB_BODY, "application/xml").status_code == 400
    assert time.monotonic() - start > 5


@check("xml-dtd-ignored")
def _(s: Hq) -> None:
    response = s.raw(ENTITIES_BODY, "application/xml")
    assert response.status_code == 400 and "canary" not in response.text and "DTD" not in response.text


(
    test_every_fault_and_variant_has_a_check,
    test_fault_or_variant_changes_what_it_says,
    test_the_faithful_server_does_not_show_it,
) = check.tests("hq")
