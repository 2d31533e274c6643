"""Hostile XML against the target's parser: external entities and an expansion bomb (the
attacks and their bounds: `msgconform.plugin.xml_attacks`).

These requests attack the target. They go to loopback targets only, unless the run was
started with --allow-attacks. A target passes when it refuses the body or ignores the DTD;
it fails when it expands an entity (the canary text, or a file's content, shows up in what
it stores or answers) or answers with a 5xx or takes too long.
"""

from __future__ import annotations

from urllib.parse import urljoin

from msgconform.plugin import xml_attacks

CASES = ("ITS-SEC-001", "ITS-SEC-002")
SEND = "/restapi/personal/messages/send/v1"
ENTITIES_NS = "http://schemas.datacontract.org/2004/07/Itslearning.RestApi.Entities"
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
CANARY = "msgconform-canary-5e2f"


def _message(dtd: str, subject: str, recipient: int) -> bytes:
    return (
        f'<?xml version="1.0"?>\n{dtd}\n'
        f'<MessageToSend xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="{ENTITIES_NS}">'
        f"<Subject>{subject}</Subject><Text>[msgconform] hostile XML</Text>"
        f'<ToPersonIds xmlns:d2p1="{ARRAYS_NS}"><d2p1:int>{recipient}</d2p1:int></ToPersonIds>'
        f"</MessageToSend>"
    ).encode()


def _stored_subject(itslearning, response) -> str:
    """What the target stored as Subject, read back through the Location ('' if unreadable)."""
    location = response.headers.get("location", "")
    if not (200 <= response.status_code < 300 and location):
        return ""
    url = urljoin(str(response.request.url), location)
    with itslearning.harness.client("sender") as client:
        answer = client.get(url, headers={"Accept": "application/json"})
    try:
        return str(answer.json().get("Subject", ""))
    except ValueError:
        return ""


def test_entities_are_not_expanded(itslearning):
    """ITS-SEC-001: an internal canary entity and an external one (a local file)."""
    harness = itslearning.harness
    xml_attacks.require_allowed(harness, CASES)
    recipient = itslearning.users["recipient"].id
    dtd = xml_attacks.entities_dtd("MessageToSend", {"canary": CANARY})
    response, _ = xml_attacks.post(harness, SEND, _message(dtd, "[msgconform] entities &canary; &xxe;", recipient))
    if xml_attacks.refused_badly(harness.recorder, "ITS-SEC-001", "a body declaring entities", response):
        return
    seen = response.text + _stored_subject(itslearning, response)
    harness.recorder.judge(
        "ITS-SEC-001",
        not xml_attacks.expanded(harness, seen, CANARY),
        "an XML entity was expanded (the canary or a file's content came back)",
    )


def test_entity_bomb_is_refused_quickly(itslearning):
    """ITS-SEC-002: "billion laughs", ten levels of ten expansions each."""
    harness = itslearning.harness
    xml_attacks.require_allowed(harness, CASES)
    recipient = itslearning.users["recipient"].id
    body = _message(xml_attacks.bomb_dtd("MessageToSend"), f"[msgconform] bomb {xml_attacks.BOMB}", recipient)
    response, elapsed = xml_attacks.post(harness, SEND, body)
    if xml_attacks.refused_badly(harness.recorder, "ITS-SEC-002", "the entity bomb", response, elapsed):
        return
    stored = _stored_subject(itslearning, response)
    harness.recorder.judge(
        "ITS-SEC-002", xml_attacks.BOMB_EXPANDED not in stored, "the entity bomb was expanded and stored"
    )
