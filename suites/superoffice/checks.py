"""SuperOffice response checks (HTTP) and delivery judgements (what the sink received).

Response checks run on every exchange, fuzzed or from a story; each returns None when the
exchange says nothing about its case. They read the request as it went over the wire (the
JSON decoded from the bytes sent, `wire_body`), never a value before serialization.

Delivery judgements (`judge_delivery`) compare one e-mail of a story, as sent, with the
SMTP transactions the sink received for its token. Headers are compared decoded (RFC 2047),
bodies decoded from their transfer encoding; line endings and trailing white space are
forgiven (SMTP carries CRLF), nothing else.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from msgconform import specs
from msgconform.plugin import generic
from msgconform.plugin.checks import checks_for, response_check
from msgconform.plugin.harness import Exchange
from msgconform.sink import Delivery
from msgconform.xmlcodec import XmlError

API = "superoffice"
SEND = ["sendEMails"]
ENUMS = ("Priority", "Flags", "CalMethod", "CalReplyStatus")
# Reference-typed members of EMailEntity, the ones `$select` may null out: read from the spec.
REFERENCE_MEMBERS = specs.nullable_properties(generic.spec_of(API), "EMailEntity")

__all__ = ["checks_for", "judge_delivery"]


def wire_body(ex: Exchange) -> Any:
    """The request body as sent: the bytes on the wire, decoded as JSON (None if not JSON)."""
    request = getattr(ex.response, "request", None)
    raw = getattr(request, "body", None)
    if raw is None:
        raw = getattr(request, "content", None)
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if isinstance(raw, bytes):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return ex.request_body if isinstance(ex.request_body, (dict, list)) else None


def entities(ex: Exchange) -> list[Any] | str:
    """The answer's e-mails (JSON, or XML by the codec), or why they cannot be read."""
    if not ex.content.strip():
        return "an empty body"
    if ex.media_type in generic.XML_TYPES or (
        ex.media_type not in generic.JSON_TYPES and ex.content.lstrip().startswith(b"<")
    ):
        try:
            value = generic.codec_of(API).loads(ex.content, "EMailEntityArray")
        except XmlError as exc:
            return f"the XML body cannot be read: {exc}"
    else:
        try:
            value = json.loads(ex.content)
        except ValueError:
            return "the body is neither JSON nor XML"
    return value if isinstance(value, list) else f"the body is a JSON {type(value).__name__}, not an array"


# --- the answer ----------------------------------------------------------------------------------


@response_check(API, "SO-SEND-001", operations=SEND)
def answer_is_an_array_of_entities(ex: Exchange):
    if ex.status != 200:
        return None
    items = entities(ex)
    if isinstance(items, str):
        return f"a 200 answer is not an array of EMailEntity: {items}"
    for index, item in enumerate(items):
        problem = generic.schema_problem(API, item, "EMailEntity", whole="the item")
        if problem is not None:
            return f"item {index} of the 200 answer is not an EMailEntity: {problem}"
    return True


@response_check(API, "SO-SEND-003", operations=SEND)
def enums_are_names(ex: Exchange):
    if ex.status != 200 or ex.media_type not in generic.JSON_TYPES:
        return None
    items = entities(ex)
    if isinstance(items, str):
        return None  # SO-SEND-001 judges the shape
    values = [(key, item[key]) for item in items if isinstance(item, dict) for key in ENUMS if key in item]
    if not values:
        return None
    wrong = next(((k, v) for k, v in values if not isinstance(v, str)), None)
    return True if wrong is None else f"{wrong[0]} is answered as {json.dumps(wrong[1])}, not as a name"


def _select(ex: Exchange) -> str | None:
    for key, value in parse_qsl(urlsplit(ex.path).query, keep_blank_values=True):
        if key == "$select":
            return value
    return None


@response_check(API, "SO-SEL-001", operations=SEND)
def select_nulls_out_the_others(ex: Exchange):
    select = _select(ex)
    if ex.status != 200 or not select or not select.strip():
        return None
    items = entities(ex)
    if isinstance(items, str):
        return None
    named = {part.strip().split("/")[0].lower() for part in select.split(",") if part.strip()}
    members = {name.lower() for name in generic.spec_of(API)["components"]["schemas"]["EMailEntity"]["properties"]}
    if not named & members:
        return None  # names no property of an e-mail: what a target makes of that is not stated
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            return None
        kept = [k for k in REFERENCE_MEMBERS if k.lower() not in named and item.get(k) not in (None,)]
        if kept:
            return f"$select={select[:60]!r}: {kept[0]} of item {index} is not nulled out"
    body = wire_body(ex)
    sent = body.get("Emails") if isinstance(body, dict) else None
    if isinstance(sent, list) and len(sent) == 1 and len(items) == 1 and isinstance(sent[0], dict):
        for key in REFERENCE_MEMBERS:
            if key.lower() in named and sent[0].get(key) not in (None, "", []) and items[0].get(key) is None:
                return f"$select={select[:60]!r} names {key}, but the answer has it null"
    return True


def _well_formed_xml(content: bytes) -> bool:
    try:
        ElementTree.fromstring(content, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException):
        return False
    return True


_xml_type = generic.content_type_as_asked((200,), generic.XML_TYPES)
_json_type = generic.content_type_as_asked((200,), generic.JSON_TYPES)


@response_check(API, "SO-FMT-001", operations=SEND)
def xml_when_xml_is_asked(ex: Exchange):
    result = _xml_type(ex)
    if result is True and not _well_formed_xml(ex.content):
        return "asked for XML, got an XML content type but a body that is not well-formed XML"
    return result


@response_check(API, "SO-FMT-002", operations=SEND)
def json_when_json_is_asked(ex: Exchange):
    result = _json_type(ex)
    if result is True:
        try:
            json.loads(ex.content)
        except ValueError:
            return "asked for JSON, got a JSON content type but a body that does not parse"
    return result


# --- errors and generic HTTP ---------------------------------------------------------------------


@response_check(API, "SO-ERR-001", operations=SEND)
def error_object(ex: Exchange):
    if ex.status < 400 or ex.status == 401:
        return None  # a 401 comes from the authentication layer, before the agent (SO-AUTH-001)
    if not ex.content.strip():
        return f"{ex.status} with an empty body, no error object"
    if ex.media_type in generic.XML_TYPES:
        try:
            value = generic.codec_of(API).loads(ex.content, "Error")
        except XmlError as exc:
            return f"{ex.status} body is not the error object: {exc}"
    elif ex.media_type in generic.JSON_TYPES:
        try:
            value = json.loads(ex.content)
        except ValueError:
            return f"{ex.status} body is not valid JSON"
    else:
        return f"{ex.status} body is {ex.media_type or 'untyped'}, not the error object"
    problem = generic.schema_problem(API, value, "Error", whole="the item")
    return True if problem is None else f"{ex.status} body is not the SuperOffice error object: {problem}"


response_check(API, "SO-HTTP-001")(generic.no_server_error)
response_check(API, "SO-AUTH-001")(generic.credentials_required)


# --- deliveries --------------------------------------------------------------------------------


def _lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")).strip()


def _addresses(email: dict[str, Any], key: str) -> list[str]:
    return [
        i["Address"].lower() for i in email.get(key) or [] if isinstance(i, dict) and isinstance(i.get("Address"), str)
    ]


def _header_text(message: EmailMessage, name: str) -> list[str]:
    try:
        return [str(v) for v in message.get_all(name, [])]
    except Exception:  # noqa: BLE001 - a header the parser cannot decode
        return []


def _text_parts(message: EmailMessage) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"plain": [], "html": []}
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() in ("text/plain", "text/html"):
            try:
                found[part.get_content_subtype()].append(part.get_content())
            except Exception:  # noqa: BLE001 - an undecodable part counts as missing
                continue
    return found


def _attachments(message: EmailMessage) -> list[EmailMessage]:
    return [
        p
        for p in message.walk()
        if not p.is_multipart() and (p.get_filename() or p.get_content_disposition() == "attachment")
    ]


def judge_delivery(recorder: Any, email: dict[str, Any], deliveries: list[Delivery], label: str) -> Delivery | None:
    """SO-MAIL-001..007 for one plainly new e-mail of a story; the copy judged, if any."""
    to, cc, bcc = _addresses(email, "To"), _addresses(email, "Cc"), _addresses(email, "Bcc")
    arrived = recorder.judge("SO-MAIL-001", bool(deliveries), f"{label}: nothing arrived at the sink")
    if not arrived:
        for case in ("SO-MAIL-002", "SO-MAIL-003", "SO-MAIL-004", "SO-MAIL-005", "SO-MAIL-006", "SO-MAIL-007"):
            recorder.skip(case, "the e-mail did not arrive (SO-MAIL-001)")
        return None
    envelope = {r.lower() for d in deliveries for r in d.rcpt_tos}
    wanted = set(to + cc + bcc)
    recorder.judge(
        "SO-MAIL-002",
        envelope == wanted,
        f"{label}: envelope recipients {sorted(envelope)} are not To+Cc+Bcc {sorted(wanted)}",
    )
    visible = [d for d in deliveries if {r.lower() for r in d.rcpt_tos} & set(to + cc)]
    copy = visible[0] if visible else deliveries[0]
    message = copy.message
    if bcc and visible:
        leaked = [
            a for d in visible for a in bcc if a in " ".join(f"{k}: {v}" for k, v in _safe_items(d.message)).lower()
        ]
        recorder.judge("SO-MAIL-003", not leaked, f"{label}: a copy for To/Cc recipients names Bcc {leaked[:1]}")
    elif bcc:
        recorder.skip("SO-MAIL-003", "no copy for a To or Cc recipient arrived")
    subject = _header_text(message, "Subject")
    sender = (email.get("From") or {}).get("Address", "")
    froms = [a.lower() for _, a in getaddresses(_header_text(message, "From"))]
    ok = subject == [email.get("Subject") or ""] and (not sender or sender.lower() in froms)
    recorder.judge("SO-MAIL-004", ok, f"{label}: Subject {subject[:1]} / From {froms[:1]} are not the e-mail's")
    parts = _text_parts(message)
    problems = []
    for kind, key in (("plain", "PlainBody"), ("html", "HTMLBody")):
        value = email.get(key)
        if value and not any(_lines(got) == _lines(value) for got in parts[kind]):
            problems.append(f"no text/{kind} part with the {key}")
    if (
        email.get("PlainBody")
        and email.get("HTMLBody")
        and not any(p.get_content_type() == "multipart/alternative" for p in message.walk())
    ):
        problems.append("both bodies given, no multipart/alternative")
    if email.get("PlainBody") or email.get("HTMLBody"):
        recorder.judge("SO-MAIL-005", not problems, f"{label}: {problems[0] if problems else ''}")
    attachments = [a for a in email.get("Attachments") or [] if isinstance(a, dict)]
    if attachments:
        delivered = _attachments(message)
        for attachment in attachments:
            recorder.judge("SO-MAIL-006", *_attachment_arrived(attachment, delivered, label))
    for header in email.get("CustomHeaderList") or []:
        values = _header_text(message, header["Name"])
        missing = [v for v in header.get("Values") or [] if v not in values]
        recorder.judge("SO-MAIL-007", not missing, f"{label}: header {header['Name']} lacks {missing[:1]}")
    return copy


def _safe_items(message: EmailMessage) -> list[tuple[str, str]]:
    out = []
    for key in message:  # a Message iterates over its header names, as keys() lists them
        out += [(key, v) for v in _header_text(message, key)]
    return out


def _attachment_arrived(attachment: dict[str, Any], parts: list[EmailMessage], label: str) -> tuple[bool, str]:
    name = attachment.get("Filename")
    try:
        expected = base64.b64decode(attachment.get("Stream") or "", validate=True)
    except (binascii.Error, ValueError):
        return False, f"{label}: the suite sent an attachment that is not base64"
    part = next((p for p in parts if p.get_filename() == name), None)
    if part is None:
        return False, f"{label}: no part with the file name {name!r}"
    kind = (attachment.get("Type") or "").split(";")[0].strip().lower()
    if kind and part.get_content_type() != kind:
        return False, f"{label}: {name} arrived as {part.get_content_type()}, not {kind}"
    payload = part.get_payload(decode=True) or b""
    if payload != expected:
        return False, (
            f"{label}: {name} arrived with {len(payload)} bytes that are not the {len(expected)} of its Stream"
        )
    return True, ""


def priority_headers(message: EmailMessage) -> str:
    found = [
        f"{n}: {v}"
        for n in ("X-Priority", "Importance", "Priority", "X-MSMail-Priority")
        for v in _header_text(message, n)
    ]
    return ", ".join(found) or "no priority header"


def message_id(message: EmailMessage) -> str:
    values = _header_text(message, "Message-ID")
    return re.sub(r"[<>\s]", "", values[0]) if values else ""
