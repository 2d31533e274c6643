"""Hostile XML against the target's parser: external entities and an expansion bomb.

These requests attack the target. They go to loopback targets only, unless the run was
started with --allow-attacks. A target passes when it refuses the body or ignores the DTD;
it fails when it expands an entity (the canary text, or a file's content, shows up in what
it stores or answers) or answers with a 5xx or takes too long.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urljoin

import pytest

ENTITIES_NS = "http://schemas.datacontract.org/2004/07/Itslearning.RestApi.Entities"
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
CANARY = "msgconform-canary-5e2f"
BOMB_LIMIT_SECONDS = 5.0


def _attacks_allowed(itslearning) -> bool:
    harness = itslearning.harness
    if harness.target.is_loopback or harness.settings.allow_attacks:
        return True
    for case_id in ("ITS-SEC-001", "ITS-SEC-002"):
        harness.recorder.skip(case_id, "hostile XML is sent only to loopback targets (use --allow-attacks)")
    return False


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


def _post(itslearning, body: bytes):
    with itslearning.harness.client("sender") as client:
        return client.post(
            "/restapi/personal/messages/send/v1",
            content=body,
            headers={"Content-Type": "application/xml", "Accept": "application/json"},
        )


def test_entities_are_not_expanded(itslearning):
    """ITS-SEC-001: an internal canary entity and an external one (a local file)."""
    if not _attacks_allowed(itslearning):
        pytest.skip("hostile XML only against loopback targets")
    recipient = itslearning.users["recipient"].id
    dtd = f'<!DOCTYPE MessageToSend [<!ENTITY canary "{CANARY}"><!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
    response = _post(itslearning, _message(dtd, "[msgconform] entities &canary; &xxe;", recipient))
    recorder = itslearning.harness.recorder
    if response.status_code >= 500:
        recorder.judge("ITS-SEC-001", False, f"a body declaring entities answered {response.status_code}")
        return
    seen = response.text + _stored_subject(itslearning, response)
    hostname = socket.gethostname() if itslearning.harness.target.is_loopback else None
    expanded = CANARY in seen or bool(hostname and hostname in seen)
    recorder.judge("ITS-SEC-001", not expanded, "an XML entity was expanded (the canary or a file's content came back)")


def test_entity_bomb_is_refused_quickly(itslearning):
    """ITS-SEC-002: "billion laughs", ten levels of ten expansions each."""
    if not _attacks_allowed(itslearning):
        pytest.skip("hostile XML only against loopback targets")
    recipient = itslearning.users["recipient"].id
    levels = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    dtd = "<!DOCTYPE MessageToSend [" + "".join(levels) + "]>"
    start = time.monotonic()
    response = _post(itslearning, _message(dtd, "[msgconform] bomb &lol9;", recipient))
    elapsed = time.monotonic() - start
    recorder = itslearning.harness.recorder
    if response.status_code >= 500:
        recorder.judge("ITS-SEC-002", False, f"the entity bomb was answered with {response.status_code}")
    elif elapsed > BOMB_LIMIT_SECONDS:
        recorder.judge("ITS-SEC-002", False, f"the entity bomb took {elapsed:.1f} s to answer")
    else:
        stored = _stored_subject(itslearning, response)
        recorder.judge("ITS-SEC-002", "lollollol" not in stored, "the entity bomb was expanded and stored")
