"""Starting a conversation, as seed 002 describes it, in both of its forms, and the ones
that must be refused.

Each step is judged by a catalogued case; the response checks run on every exchange too.
"""

from __future__ import annotations

import json

from suites.highq.checks import created


def test_a_conversation_in_the_json_form_starts(highq):
    """HQ-CONV-001: one message to the recipient, as application/json (answer in JSON).

    HQ-INFO-002 reports how the one-element message list comes back.
    """
    ex = highq.create(highq.conversation("JSON form"))
    highq.harness.recorder.judge(
        "HQ-CONV-001", 200 <= ex.status < 300, f"a valid conversation as JSON answered {ex.status} ({ex.where})"
    )
    if not 200 <= ex.status < 300:
        highq.harness.recorder.skip("HQ-INFO-002", "the JSON conversation was not accepted")
        return
    answer = created(ex)
    if isinstance(answer, str) or ex.media_type not in ("application/json", "text/json"):
        highq.harness.recorder.skip("HQ-INFO-002", "the answer was not a readable JSON conversation")
        return
    shape = "the object itself" if answer.single_object else "a list"
    highq.harness.recorder.observe("HQ-INFO-002", f"a one-message answer writes messages.message as {shape}")


def test_a_conversation_in_the_xml_form_starts(highq):
    """HQ-XML-001: one message to the recipient, written as the seed's XML form (html in
    CDATA), as application/xml, answer asked for in XML (HQ-XML-002, HQ-XML-003 judge it)."""
    ex = highq.create(highq.conversation("XML form"), media_type="application/xml", accept="application/xml")
    highq.harness.recorder.judge(
        "HQ-XML-001", 200 <= ex.status < 300, f"a valid conversation as XML answered {ex.status} ({ex.where})"
    )


def test_conversations_of_several_messages_start(highq):
    """Two and three messages, each with html, in the JSON and the XML form: HQ-CONV-006
    (one distinct messageid per message, counted on the wire) judges every answer."""
    for count, media_type in (
        (2, "application/json"),
        (3, "application/xml"),
        (3, "application/json"),
        (2, "application/xml"),
    ):
        ex = highq.create(
            highq.conversation(f"{count} messages", messages=count), media_type=media_type, accept=media_type
        )
        if not 200 <= ex.status < 300:
            highq.harness.recorder.skip(
                "HQ-CONV-006", f"a conversation of {count} messages ({media_type}) answered {ex.status}"
            )


def test_invalid_conversations_are_refused(highq):
    """HQ-ERR-002: no recipients, a user that cannot exist (userid 0), no message.

    Each answer is also judged by HQ-ERR-001 (the error object), in JSON and in XML.
    """
    recipient = highq.users["recipient"].id
    message = {"message": [{"html": highq.html("refused")}]}
    bodies = {
        "no recipients": {"recipients": {"users": {"user": []}}, "messages": message},
        "an unknown user": {"recipients": {"users": {"user": [{"userid": 0}]}}, "messages": message},
        "no message": {"recipients": {"users": {"user": [{"userid": recipient}]}}, "messages": {"message": []}},
    }
    for index, (label, body) in enumerate(bodies.items()):
        accept = ("application/json", "application/xml")[index % 2]
        ex = highq.create(body, accept=accept)
        refused = 400 <= ex.status < 500
        highq.harness.recorder.judge(
            "HQ-ERR-002",
            refused,
            f"a conversation with {label} answered {ex.status} ({ex.where}, {json.dumps(body)[:80]})",
        )
