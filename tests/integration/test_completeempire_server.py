"""The CompleteEmpire reference server, over real HTTP: faithful behaviour, then every fault
and variant of faults.yaml doing what its entry says."""

from __future__ import annotations

import json
from typing import Any

import pytest

from msgconform import specs
from msgconform.servers import TARGET_USERS
from msgconform.servers.completeempire import form_value
from msgconform.servers.embedded import running_servers
from msgconform.xmlcodec import XmlCodec
from tests.reference_servers import FaultChecks, ServerClient, faithful, with_fault

pytestmark = pytest.mark.integration

PATH = "/api/messages/sendmessage"
SENDER, RECIPIENT = "ce-sender-token", "ce-recipient-token"
SENDER_ID, RECIPIENT_ID = "5d0e3f2a-8a4b-4c61-9b7e-2f1c0a9d4e11", "9b2c7d14-3e5f-4a86-b0c9-71d2e8f3a605"
JSON = {"Accept": "application/json"}
XML = {"Accept": "application/xml"}
CODEC = XmlCodec(specs.load("completeempire"))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def message(**members: Any) -> dict[str, Any]:
    return {"to": [{"account_id": RECIPIENT_ID, "email_address": "rita@example.test"}], "subject": "Hi",
            "body": "Hello", **members}


class Ce(ServerClient):
    """A client for one running server, with the few calls the tests repeat."""

    API = "completeempire"

    def send(self, body: Any = None, token: str = SENDER, **headers: str):
        return self.http.post(PATH, json=message() if body is None else body, headers=auth(token) | headers)

    def raw(self, content: bytes, content_type: str | None, token: str = SENDER, **headers: str):
        extra = {"Content-Type": content_type} if content_type else {}
        return self.http.post(PATH, content=content, headers=auth(token) | extra | headers)

    def xml(self, body: Any = None, content_type: str = "application/xml", **headers: str):
        return self.raw(CODEC.dumps(message() if body is None else body, "MessageComposeModel"), content_type,
                        **headers)


ce = faithful(Ce)
server_with = with_fault(Ce)


# --- faithful behaviour -------------------------------------------------------------------


def test_the_users_match_the_targets_and_are_not_the_seed_s() -> None:
    users = TARGET_USERS["completeempire"]()
    assert users["sender"]["id"] == SENDER_ID and users["recipient"]["id"] == RECIPIENT_ID
    assert users["recipient"]["email"] == "rita@example.test" and users["sender"]["token"] == SENDER
    seed = (specs.load("completeempire")["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]
            ["examples"]["seed"]["value"])
    assert SENDER_ID not in json.dumps(seed) and RECIPIENT_ID not in json.dumps(seed)
    with running_servers(["completeempire"]) as servers:
        assert f'\n[completeempire.users.recipient]\nid = "{RECIPIENT_ID}"\n' in servers.targets_toml()


def test_a_send_answers_200_with_the_saved_model(ce: Ce) -> None:
    first, second = ce.send(), ce.send(message(id="67160834-f076-41da-862e-3a1c72281b0d", ts="QEA="))
    assert first.status_code == 200 and first.headers["content-type"] == "application/json; charset=utf-8"
    body = first.json()
    assert body["subject"] == "Hi" and body["sender_account_id"] == SENDER_ID and body["can_delete"] is True
    assert body["id"] != second.json()["id"] != "67160834-f076-41da-862e-3a1c72281b0d"  # ids are the server's
    assert second.json()["ts"] != "QEA="


def test_every_request_format_is_read_and_the_answer_follows_accept(ce: Ce) -> None:
    assert ce.send(**{"Content-Type": "text/json"}).status_code == 200
    assert ce.raw(json.dumps(message()).encode(), "text/json; charset=utf-8").status_code == 200
    as_xml = ce.xml(**XML)
    assert as_xml.status_code == 200 and as_xml.headers["content-type"] == "application/xml; charset=utf-8"
    assert CODEC.problems(as_xml.content, "MessageComposeModel") == []
    assert ce.xml(content_type="text/xml", Accept="text/xml").headers["content-type"].startswith("text/xml")
    assert ce.send(Accept="text/json").headers["content-type"].startswith("text/json")
    assert ce.send(Accept="*/*").headers["content-type"].startswith("application/json")
    form = b"to[0][account_id]=" + RECIPIENT_ID.encode() + b"&subject=x&importance=1&send=true"
    response = ce.raw(form, "application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.json()["importance"] == 1


def test_importance_is_a_number_in_json_and_a_name_in_xml(ce: Ce) -> None:
    assert ce.send(message(importance=0)).json()["importance"] == 0
    assert b"<Importance>High</Importance>" in ce.xml(message(importance=2), **XML).content
    document = CODEC.dumps(message(importance=0), "MessageComposeModel")
    assert b"<Importance>Low</Importance>" in document
    assert ce.raw(document.replace(b">Low<", b">0<"), "application/xml").status_code == 400


def test_a_reply_names_an_earlier_message_the_caller_can_see(ce: Ce) -> None:
    parent = ce.send().json()["id"]
    assert ce.send(message(parent_id=parent)).status_code == 200
    assert ce.send(message(parent_id="48e91789-1800-4af1-9d0f-a545216ab490")).status_code == 400


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"subject": "no one"}, "At least one recipient"),
        (message(to=[{"account_id": "c188454f-3ac6-495c-869a-e3d255f3326a"}]), "No account"),
        (message(sender_account_id=RECIPIENT_ID), "Not your own"),
        (message(attachments=["4d81cd73-e621-4f67-9a2b-dd1c79c17175"]), "No such file"),
        (message(sender_account_id="me"), "is not a guid"),
        (message(to="rita"), "a str for a list"),
        (message(importance="Urgent"), "not a member"),
    ],
)
def test_invalid_sends_answer_400_with_the_error_object(ce: Ce, body: dict, words: str) -> None:
    response = ce.send(body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["Message"] == "The request is invalid." and words in json.dumps(error["ModelState"])


def test_binder_leniency_of_json_net_and_datacontractserializer(ce: Ce) -> None:
    lenient = message(importance="1", send="true", Subject=5, extra=[1])
    lenient["to"][0]["account_id"] = RECIPIENT_ID.replace("-", "").upper()
    assert ce.send(lenient).status_code == 200
    document = CODEC.dumps(message(), "MessageComposeModel").replace(b"<Subject>", b"<Unknown>u</Unknown><Subject>")
    assert ce.raw(document, "application/xml").status_code == 200
    moved = CODEC.dumps(message(body="late"), "MessageComposeModel")
    moved = moved.replace(b"<Body>late</Body>", b"").replace(b"</MessageComposeModel>",
                                                            b"<Body>late</Body></MessageComposeModel>")
    assert ce.raw(moved, "application/xml", **JSON).json().get("body") is None  # out of order: skipped


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{", "application/json", 400), (b"", "application/json", 400), (b"[1]", "text/json", 400),
        (b"<MessageComposeModel", "application/xml", 400), (b"<Other/>", "text/xml", 400),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><MessageComposeModel>&a;</MessageComposeModel>', "application/xml", 400),
        (b"[" * 100_000, "application/json", 400), (b"{}", "text/plain", 415), (b"{}", None, 415),
    ],
)
def test_garbage_gets_a_4xx_never_a_5xx(ce: Ce, content: bytes, content_type: str | None, status: int) -> None:
    response = ce.raw(content, content_type)
    assert response.status_code == status, response.text
    assert "Message" in response.json()


def test_errors_follow_accept_with_the_xml_root_error(ce: Ce) -> None:
    response = ce.raw(b"{", "application/json", **XML)
    assert response.headers["content-type"].startswith("application/xml") and b"<Error" in response.content
    assert CODEC.loads(response.content, "ApiError")["Message"] == "The request is invalid."


def test_requests_without_a_valid_token_answer_401_and_other_methods_405(ce: Ce) -> None:
    for headers in ({}, auth("wrong"), {"Authorization": "Basic Y2Utc2VuZGVyLXRva2Vu"}):
        response = ce.http.post(PATH, json=message(), headers=headers)
        assert response.status_code == 401 and response.json()["Message"].startswith("Authorization has been denied")
    assert ce.send(token=RECIPIENT).status_code == 200  # writing to oneself is not forbidden
    assert ce.send(message(to=[{"account_id": SENDER_ID}]), token=RECIPIENT).status_code == 200
    for method in ("GET", "PUT", "DELETE"):
        response = ce.http.request(method, PATH, headers=auth(SENDER))
        assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert ce.http.post("/api/messages/other", headers=auth(SENDER)).status_code == 404


def test_form_keys_are_read_jquery_style() -> None:
    pairs = [("to[0][account_id]", "a"), ("to[1][account_id]", "b"), ("subject", "s"), ("[]", "x")]
    assert form_value(pairs) == {"to": [{"account_id": "a"}, {"account_id": "b"}], "subject": "s"}


# --- faults and variants: each one changes what its entry says -----------------------------

check = FaultChecks("completeempire")


@check("text-json-rejected")
def _(s: Ce) -> None:
    assert s.send(**{"Content-Type": "text/json"}).status_code == 415
    assert s.send().status_code == 200


@check("xml-no-namespace")
def _(s: Ce) -> None:
    assert s.xml().status_code == 400
    plain = CODEC.dumps(message(), "MessageComposeModel").replace(b' xmlns="', b' xmlns:unused="')
    assert s.raw(plain, "application/xml").status_code == 200


@check("json-importance-name")
def _(s: Ce) -> None:
    assert s.send(message(importance=0)).status_code == 400
    assert s.send(message(importance="Low")).status_code == 200


@check("xml-importance-number")
def _(s: Ce) -> None:
    assert s.xml(message(importance=0)).status_code == 400
    assert s.xml().status_code == 200


@check("seed-headers-refused")
def _(s: Ce) -> None:
    assert s.send(message(references="sample string 5")).status_code == 400
    assert s.send().status_code == 200


@check("json-text-plain")
def _(s: Ce) -> None:
    assert s.send().headers["content-type"].startswith("text/plain")
    assert s.send({}).headers["content-type"].startswith("application/json")  # errors keep their type


@check("xml-served-as-json")
def _(s: Ce) -> None:
    assert s.send(**XML).headers["content-type"].startswith("application/json")


@check("500-on-malformed")
def _(s: Ce) -> None:
    assert s.raw(b"{", "application/json").status_code == 500
    assert s.send(message(sender_account_id="me")).status_code == 500
    assert s.send({"subject": "no one"}).status_code == 400  # readable, just undeliverable


@check("model-state-ignored")
def _(s: Ce) -> None:
    assert s.send(message(sender_account_id="me", send="maybe")).status_code == 200
    assert s.raw(b"{", "application/json").status_code == 400


@check("auth-ignored")
def _(s: Ce) -> None:
    assert s.http.post(PATH, json=message()).status_code == 200


@check("created-201-location")
def _(s: Ce) -> None:
    response = s.send()
    assert response.status_code == 201 and response.json()["id"] in response.headers["location"]


@check("no-content-204")
def _(s: Ce) -> None:
    response = s.send(**XML)
    assert response.status_code == 204 and response.content == b""


@check("id-only-200")
def _(s: Ce) -> None:
    assert isinstance(s.send().json(), str)
    assert s.send(**XML).content.startswith(b'<guid xmlns="http://schemas.microsoft.com/2003/10/Serialization/">')


@check("strict-binder")
def _(s: Ce) -> None:
    assert s.send(message(importance="1")).status_code == 400
    assert s.send(message(extra=1)).status_code == 400
    assert s.send().status_code == 200 and s.xml().status_code == 200


@check("drafts-refused")
def _(s: Ce) -> None:
    assert s.send(message(send=False)).status_code == 400
    assert s.send(message(send=True)).status_code == 200


@check("server-members-refused")
def _(s: Ce) -> None:
    assert s.send(message(can_delete=True)).status_code == 400
    assert s.send().status_code == 200


@check("no-charset")
def _(s: Ce) -> None:
    assert s.send().headers["content-type"] == "application/json"
    assert s.send(**XML).headers["content-type"] == "application/xml"


(
    test_every_fault_and_variant_has_a_check,
    test_fault_or_variant_changes_what_it_says,
    test_the_faithful_server_does_not_show_it,
) = check.tests("ce")


# --- the command line: serve at N+1, and a run of CompleteEmpire alone against it -----------


def test_serve_puts_completeempire_at_n_plus_1_and_a_run_of_it_alone_passes(tmp_path) -> None:
    from tests.helpers import free_port, run_msgconform, serving

    port = free_port()
    with serving(port=port) as server:
        assert server.targets["completeempire"].base_url == f"http://127.0.0.1:{port + 1}"
        targets = server.write_targets(tmp_path / "targets.toml")
        done = run_msgconform("run", "--targets", targets, "--api", "completeempire", "--max-examples", "3",
                              "--report-dir", tmp_path / "reports", cwd=tmp_path, timeout=300)
    assert done.status == 0, done
    assert done.stdout.splitlines()[-1].startswith("completeempire: conformant (")
