"""Sending a message as seed 001 describes it: every request format, both forms of
importance, the seed's own samples, and what the page leaves open.

Each step is judged by a catalogued case; the response checks run on every exchange too.
"""

from __future__ import annotations

import json
from itertools import product

from msgconform import binders, specs
from msgconform.plugin import xml
from suites.completeempire.checks import MODEL, spec
from suites.completeempire.conftest import NOT_FOR_CLIENTS, SERVER_MEMBERS, named_id

JSON_FORMATS = ("application/json", "text/json")
XML_FORMATS = ("application/xml", "text/xml")
FORMATS = JSON_FORMATS + XML_FORMATS


def success(status: int) -> bool:
    return 200 <= status < 300


def seed_json() -> dict:
    return specs.operation(spec(), "sendMessage")[2]["requestBody"]["content"]["application/json"]["examples"]["seed"][
        "value"
    ]


def seed_xml_value() -> dict:
    content = specs.operation(spec(), "sendMessage")[2]["requestBody"]["content"]["application/xml"]
    return xml.codec_for(spec()).loads(content["x-msgconform-seed-text"], MODEL)


def client_part(ce, sample: dict) -> dict:
    """A seed sample with its identifiers owned and the members a client has no business setting left out."""
    return {k: v for k, v in ce.owner.own(sample).items() if k not in NOT_FOR_CLIENTS}


def test_a_message_in_to_cc_and_bcc_is_accepted_in_every_format(completeempire):
    """CE-SEND-001 (JSON) and CE-XML-001 (XML): the recipient in To, Cc and Bcc each, in the four
    request formats; answers asked for in every response format (CE-RESP-001, CE-RESP-002)."""
    ce = completeempire
    for index, (field, media) in enumerate(product(("to", "cc", "bcc"), FORMATS)):
        accept = FORMATS[(index + 1) % len(FORMATS)]
        ex = ce.send(ce.message(f"{field} as {media}", field), media_type=media, accept=accept)
        case = "CE-SEND-001" if media in JSON_FORMATS else "CE-XML-001"
        ce.recorder.judge(case, success(ex.status), f"a valid message ({field}) as {media} answered {ex.status}")


def test_importance_is_a_number_in_json_and_a_name_in_xml(completeempire):
    """CE-IMP-001: "importance": 0; CE-IMP-002: <Importance>Low</Importance> (the codec writes the name)."""
    ce = completeempire
    ex = ce.send(ce.message("importance 0", importance=0))
    ce.recorder.judge("CE-IMP-001", success(ex.status), f'"importance": 0 answered {ex.status}')
    ex = ce.send(ce.message("importance Low", importance=0), media_type="application/xml", accept="application/xml")
    ce.recorder.judge("CE-IMP-002", success(ex.status), f"<Importance>Low</Importance> answered {ex.status}")


def test_the_seed_samples_are_accepted(completeempire):
    """CE-SEND-002 and CE-XML-002: each sample, identifiers owned, client-set members left out.
    CE-INFO-007: the same message as JSON and as XML."""
    ce = completeempire
    as_json = ce.send(client_part(ce, seed_json()))
    ce.recorder.judge("CE-SEND-002", success(as_json.status), f"the seed's JSON sample answered {as_json.status}")
    as_xml = ce.send(client_part(ce, seed_xml_value()), media_type="application/xml", accept="application/xml")
    ce.recorder.judge("CE-XML-002", success(as_xml.status), f"the seed's XML sample answered {as_xml.status}")
    same = "the same status" if as_json.status == as_xml.status else "different statuses"
    ce.recorder.observe("CE-INFO-007", f"the seed's message as JSON and as XML got {same}")


def test_the_full_sample_and_server_generated_members(completeempire):
    """CE-INFO-006: the whole sample, identifiers owned; CE-INFO-004: fresh id, ts, created_date, can_delete."""
    ce = completeempire
    ex = ce.send(ce.owner.own(seed_json()))
    ce.recorder.observe("CE-INFO-006", f"the full sample (identifiers replaced) answered {ex.status}")
    sent_id = ce.owner.fresh("server-generated members")
    members = {"id": sent_id, "ts": "QEA=", "created_date": "2026-06-09T14:59:25.9028316+08:00", "can_delete": True}
    ex = ce.send(ce.message("server-generated members", **members))
    assert set(members) <= set(SERVER_MEMBERS)
    if not success(ex.status):
        ce.recorder.observe("CE-INFO-004", f"a send carrying id, ts, created_date and can_delete answered {ex.status}")
        return
    named = named_id(ex)
    echoed = "no id" if named is None else "the id sent" if named == sent_id else "a new id"
    ce.recorder.observe(
        "CE-INFO-004", f"a send carrying id, ts, created_date and can_delete answered {ex.status} naming {echoed}"
    )


def test_send_false(completeempire):
    """CE-INFO-002: what "send": false does (probably a draft)."""
    ce = completeempire
    ex = ce.send(ce.message("send false", send=False))
    ce.recorder.observe("CE-INFO-002", f'a valid message with "send": false answered {ex.status}')


def test_a_reply_through_parent_id(completeempire):
    """CE-INFO-003: parent_id naming a message this run was answered with."""
    ce = completeempire
    if not ce.harness.pools.messages:
        ce.recorder.skip("CE-INFO-003", "no success named a message: there is nothing to reply to")
        return
    ex = ce.send(ce.message("reply", parent_id=ce.harness.pools.messages[0]))
    ce.recorder.observe("CE-INFO-003", f"a reply naming an earlier message of the run answered {ex.status}")


def test_a_form_encoded_message(completeempire):
    """CE-INFO-005: the form format the page lists without a sample (jQuery-style keys)."""
    ce = completeempire
    ex = ce.send(ce.message("form"), media_type="application/x-www-form-urlencoded")
    ce.recorder.observe("CE-INFO-005", f"a valid message sent form-encoded answered {ex.status}")


def test_bodies_the_binder_cannot_read_are_refused(completeempire):
    """CE-HTTP-002: bodies that are not well-formed, or hold a value Json.NET or
    DataContractSerializer cannot convert, each otherwise a valid message."""
    ce = completeempire
    good = ce.message("unreadable")
    xml_good = xml.serialize_body(spec(), specs.operation(spec(), "sendMessage")[2], "application/xml", good)
    bodies = [
        ("JSON that is not well-formed", json.dumps(good).encode()[:-1], "application/json"),
        ("a string for the To list", json.dumps({**good, "to": "rita"}).encode(), "application/json"),
        (
            "a sender_account_id that is no guid",
            json.dumps({**good, "sender_account_id": "me"}).encode(),
            "application/json",
        ),
        ("an importance no member has", json.dumps({**good, "importance": "Urgent"}).encode(), "text/json"),
        ("a send that is no boolean", json.dumps({**good, "send": "maybe"}).encode(), "application/json"),
        ("XML that is not well-formed", xml_good[:-20], "application/xml"),
        ("XML Importance as a number", _with_importance(xml_good, b"0"), "application/xml"),
        ("XML Send that is no boolean", _with_send(xml_good, b"maybe"), "text/xml"),
    ]
    for label, raw, media in bodies:
        request_body = specs.operation(spec(), "sendMessage")[2]["requestBody"]
        assert binders.body_problems(spec(), request_body, media, raw), f"{label}: the binder profile reads it"
        ex = ce.send(None, raw=raw, media_type=media)
        if ex.status >= 500:
            continue  # judged by CE-HTTP-001
        ce.recorder.judge("CE-HTTP-002", 400 <= ex.status < 500, f"{label} answered {ex.status}")


def _with_importance(document: bytes, text: bytes) -> bytes:
    """The message with <Importance> in its place of the sample's order (after Body)."""
    return document.replace(b"</Body>", b"</Body><Importance>" + text + b"</Importance>", 1)


def _with_send(document: bytes, text: bytes) -> bytes:
    """The message with <Send> in its place (after Body and Importance, before To)."""
    return document.replace(b"</Body>", b"</Body><Send>" + text + b"</Send>", 1)
