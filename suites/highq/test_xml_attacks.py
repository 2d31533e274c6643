"""Hostile XML against the target's parser: a DTD with internal and external entities, and
an expansion bomb.

These requests attack the target. They go to loopback targets only, unless the run was
started with --allow-attacks. The only external entity is a `file:` one: the suite never
sends an entity that would make the target fetch a URL. HighQ has no call to read a
conversation back, so a target is judged by its answer: it passes when it refuses the body
or ignores the DTD; it fails when the answer shows an entity expanded (the canary, which
only appears once two entities are joined, or the file's content), when it answers with a
5xx, or when it takes longer than 5 seconds.
"""

from __future__ import annotations

import socket
import time

import pytest

from suites.highq.conftest import CONVERSATIONS

CANARY = ("msgconform-can", "ary-7c1d")  # joined only by an expanding parser
LIMIT_SECONDS = 5.0


def _attacks_allowed(highq) -> bool:
    harness = highq.harness
    if harness.target.is_loopback or harness.settings.allow_attacks:
        return True
    for case_id in ("HQ-SEC-001", "HQ-SEC-002"):
        harness.recorder.skip(case_id, "hostile XML is sent only to loopback targets (use --allow-attacks)")
    return False


def _conversation(dtd: str, userid: str, html: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{dtd}\n<conversation><recipients><users><user>'
        f"<userid>{userid}</userid></user></users></recipients><messages><message>"
        f"<html>{html}</html></message></messages></conversation>"
    ).encode()


def _post(highq, body: bytes):
    with highq.harness.client("sender") as client:
        start = time.monotonic()
        response = client.post(
            CONVERSATIONS, content=body, headers={"Content-Type": "application/xml", "Accept": "application/json"}
        )
        return response, time.monotonic() - start


def test_entities_are_not_expanded(highq):
    """HQ-SEC-001: two internal entities that join into a canary, and a local file."""
    if not _attacks_allowed(highq):
        pytest.skip("hostile XML only against loopback targets")
    dtd = (
        f'<!DOCTYPE conversation [<!ENTITY a "{CANARY[0]}"><!ENTITY b "{CANARY[1]}">'
        f'<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
    )
    body = _conversation(dtd, "&a;&b;", "&xxe; [msgconform] entities &a;&b;")
    response, elapsed = _post(highq, body)
    recorder = highq.harness.recorder
    if response.status_code >= 500:
        recorder.judge("HQ-SEC-001", False, f"a body declaring entities answered {response.status_code}")
        return
    if elapsed > LIMIT_SECONDS:
        recorder.judge("HQ-SEC-001", False, f"a body declaring entities took {elapsed:.1f} s to answer")
        return
    hostname = socket.gethostname() if highq.harness.target.is_loopback else None
    seen = response.text
    expanded = "".join(CANARY) in seen or bool(hostname and hostname in seen) or "external entity xxe expanded" in seen
    recorder.judge(
        "HQ-SEC-001",
        not expanded,
        f"an XML entity was expanded into the {response.status_code} answer (the canary or a file's content)",
    )


def test_entity_bomb_is_refused_quickly(highq):
    """HQ-SEC-002: "billion laughs", ten levels of ten expansions each."""
    if not _attacks_allowed(highq):
        pytest.skip("hostile XML only against loopback targets")
    levels = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    dtd = "<!DOCTYPE conversation [" + "".join(levels) + "]>"
    response, elapsed = _post(highq, _conversation(dtd, "&lol9;", "[msgconform] bomb"))
    recorder = highq.harness.recorder
    if response.status_code >= 500:
        recorder.judge("HQ-SEC-002", False, f"the entity bomb was answered with {response.status_code}")
    elif elapsed > LIMIT_SECONDS:
        recorder.judge("HQ-SEC-002", False, f"the entity bomb took {elapsed:.1f} s to answer")
    else:
        recorder.judge("HQ-SEC-002", "lollollol" not in response.text, "the entity bomb was expanded into the answer")
