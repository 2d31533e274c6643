"""Hostile XML against the target's parser: a DTD with internal and external entities, and
an expansion bomb (the attacks and their bounds: `msgconform.plugin.xml_attacks`).

These requests attack the target. They go to loopback targets only, unless the run was
started with --allow-attacks. HighQ has no call to read a conversation back, so a target is
judged by its answer: it passes when it refuses the body or ignores the DTD; it fails when
the answer shows an entity expanded (the canary, which only appears once two entities are
joined, or the file's content), when it answers with a 5xx, or when it takes longer than
5 seconds.
"""

from __future__ import annotations

from msgconform.plugin import xml_attacks
from suites.highq.conftest import CONVERSATIONS

CASES = ("HQ-SEC-001", "HQ-SEC-002")
CANARY = ("msgconform-can", "ary-7c1d")  # joined only by an expanding parser


def _conversation(dtd: str, userid: str, html: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{dtd}\n<conversation><recipients><users><user>'
        f"<userid>{userid}</userid></user></users></recipients><messages><message>"
        f"<html>{html}</html></message></messages></conversation>"
    ).encode()


def test_entities_are_not_expanded(highq):
    """HQ-SEC-001: two internal entities that join into a canary, and a local file."""
    harness = highq.harness
    xml_attacks.require_allowed(harness, CASES)
    dtd = xml_attacks.entities_dtd("conversation", {"a": CANARY[0], "b": CANARY[1]})
    body = _conversation(dtd, "&a;&b;", "&xxe; [msgconform] entities &a;&b;")
    response, elapsed = xml_attacks.post(harness, CONVERSATIONS, body)
    if xml_attacks.refused_badly(harness.recorder, "HQ-SEC-001", "a body declaring entities", response, elapsed):
        return
    seen = response.text
    expanded = xml_attacks.expanded(harness, seen, "".join(CANARY)) or "external entity xxe expanded" in seen
    harness.recorder.judge(
        "HQ-SEC-001",
        not expanded,
        f"an XML entity was expanded into the {response.status_code} answer (the canary or a file's content)",
    )


def test_entity_bomb_is_refused_quickly(highq):
    """HQ-SEC-002: "billion laughs", ten levels of ten expansions each."""
    harness = highq.harness
    xml_attacks.require_allowed(harness, CASES)
    body = _conversation(xml_attacks.bomb_dtd("conversation"), xml_attacks.BOMB, "[msgconform] bomb")
    response, elapsed = xml_attacks.post(harness, CONVERSATIONS, body)
    if xml_attacks.refused_badly(harness.recorder, "HQ-SEC-002", "the entity bomb", response, elapsed):
        return
    harness.recorder.judge(
        "HQ-SEC-002", xml_attacks.BOMB_EXPANDED not in response.text, "the entity bomb was expanded into the answer"
    )
