"""HighQ response checks: each binds one catalogued case to a judgement.

They run on every exchange of the API, from fuzzing and the scenario tests alike. A check
returns None when the exchange says nothing about its case.

Reading an answer is split by strictness. `created()` reads a success leniently (JSON or
XML, whatever the label says, any root, ids as integers or digit strings), so that the
MUST cases on ids judge only the ids; the schema cases (HQ-XML-003, HQ-JSON-002) read
strictly, through the spec-driven codec and the spec's schemas.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from msgconform.plugin import generic
from msgconform.plugin.checks import response_check
from msgconform.plugin.harness import Exchange
from msgconform.xmlcodec import XmlError

API = "highq"
CREATE = ["createConversation"]
SUCCESS = (200, 201)
_DIGITS = re.compile(r"\s*\d+\s*")


def is_id(value: Any) -> bool:
    """An id as the lenient reading accepts it: an integer, or a string of digits."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(_DIGITS.fullmatch(value)))


def messages_on_the_wire(body: Any) -> list[Any] | None:
    """The messages a request body holds as sent (`Exchange.request_body`, decoded from the
    bytes): every `message` element or JSON item counts, a single object as one; None
    when the body holds no message list."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), dict):
        return None
    listed = body["messages"].get("message")
    if isinstance(listed, list):
        return listed
    return [listed] if isinstance(listed, dict) else None


def messages_sent(body: Any) -> int | None:
    """How many messages a request body holds as sent, or None."""
    messages = messages_on_the_wire(body)
    return None if messages is None else len(messages)


# --- reading answers ------------------------------------------------------------------------


@dataclass
class Created:
    """What a success answer names: its conversationid and the messageids it lists."""

    conversation_id: Any
    message_ids: list[Any]
    single_object: bool = False  # JSON: messages.message was an object, not a list


def _is_xml(ex: Exchange) -> bool:
    if ex.media_type in generic.XML_TYPES:
        return True
    if ex.media_type in generic.JSON_TYPES:
        return False
    return ex.content.lstrip().startswith(b"<")  # mislabelled: go by the content


def created(ex: Exchange) -> Created | str:
    """The success body read leniently, or why it cannot be read."""
    if not ex.content.strip():
        return f"{ex.status} with an empty body"
    if _is_xml(ex):
        try:
            root = ElementTree.fromstring(ex.content, forbid_dtd=True)
        except (ElementTree.ParseError, DefusedXmlException) as exc:
            return f"{ex.status} body is not readable XML ({type(exc).__name__})"
        found = [c.text for c in root if _local(c.tag) == "conversationid"]
        ids = [
            i.text
            for w in root
            if _local(w.tag) == "messages"
            for m in w
            if _local(m.tag) == "message"
            for i in m
            if _local(i.tag) == "messageid"
        ]
        return Created(found[0] if found else None, ids)
    try:
        body = json.loads(ex.content)
    except ValueError:
        return f"{ex.status} body is neither XML nor JSON"
    if not isinstance(body, dict):
        return f"{ex.status} body is JSON but not an object"
    listed = body.get("messages", {}).get("message") if isinstance(body.get("messages"), dict) else None
    items = [listed] if isinstance(listed, dict) else listed if isinstance(listed, list) else []
    ids = [item.get("messageid") for item in items if isinstance(item, dict) and "messageid" in item]
    return Created(body.get("conversationid"), ids, isinstance(listed, dict))


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def strict_body(ex: Exchange, xml_component: str, json_component: str) -> tuple[Any, str] | str:
    """(value, component) read strictly by media type, or why the body cannot be read."""
    if ex.media_type in generic.XML_TYPES:
        try:
            return generic.codec_of(API).loads(ex.content, xml_component), xml_component
        except XmlError as exc:
            return f"the XML body cannot be read as documented: {exc}"
    try:
        return json.loads(ex.content), json_component
    except ValueError:
        return f"{ex.status} body is not valid JSON"


# --- a new conversation (seed 002) ------------------------------------------------------------


@response_check(API, "HQ-CONV-002", operations=CREATE)
def success_is_200_or_201(ex: Exchange):
    if not 200 <= ex.status < 300:
        return None
    return True if ex.status in SUCCESS else f"a new conversation succeeded with {ex.status}, not 200 or 201"


@response_check(API, "HQ-CONV-003", operations=CREATE)
def success_names_the_conversation(ex: Exchange):
    if not 200 <= ex.status < 300:
        return None
    answer = created(ex)
    if isinstance(answer, str):
        return answer
    if answer.conversation_id is None:
        return f"{ex.status} answer without a conversationid"
    return True if is_id(answer.conversation_id) else f"conversationid {answer.conversation_id!r} is not an id"


@response_check(API, "HQ-CONV-005", operations=CREATE)
def one_messageid_per_message(ex: Exchange):
    if not 200 <= ex.status < 300 or messages_sent(ex.request_body) != 1:
        return None
    answer = created(ex)
    if isinstance(answer, str):
        return answer
    ids = [i for i in answer.message_ids if is_id(i)]
    if len(ids) == 1 and len(answer.message_ids) == 1:
        return True
    return f"one message sent, the answer lists {len(answer.message_ids)} messageid(s) ({len(ids)} usable)"


@response_check(API, "HQ-CONV-006", operations=CREATE)
def one_distinct_messageid_per_message(ex: Exchange):
    """Several messages, each with html, as sent: the answer lists one distinct id each."""
    messages = messages_on_the_wire(ex.request_body)
    if not 200 <= ex.status < 300 or messages is None or len(messages) < 2:
        return None
    if not all(isinstance(m, dict) and isinstance(m.get("html"), str) for m in messages):
        return None  # what a message without html gives is not this case's question
    answer = created(ex)
    if isinstance(answer, str):
        return answer
    ids = [str(i).strip() for i in answer.message_ids if is_id(i)]
    if len(answer.message_ids) != len(messages) or len(ids) != len(messages):
        return (
            f"{len(messages)} messages sent, the answer lists {len(answer.message_ids)} messageid(s)"
            f" ({len(ids)} usable)"
        )
    if len(set(ids)) != len(ids):
        return f"{len(messages)} messages sent, the answer lists only {len(set(ids))} distinct messageid(s)"
    return True


# --- XML and JSON -----------------------------------------------------------------------------

response_check(API, "HQ-XML-002", operations=CREATE)(generic.content_type_as_asked(SUCCESS, generic.XML_TYPES))
response_check(API, "HQ-JSON-001", operations=CREATE)(generic.content_type_as_asked(SUCCESS, generic.JSON_TYPES))


def _conversation_created(media_types: tuple[str, ...], wrong: str):
    """A 2xx answer in `media_types` is the documented ConversationCreated; `wrong` says
    what else it is."""

    def judged(ex: Exchange):
        if ex.status not in SUCCESS or ex.media_type not in media_types:
            return None
        read = strict_body(ex, "ConversationCreated", "ConversationCreated")
        if isinstance(read, str):
            return read
        problem = generic.schema_problem(API, *read)
        return True if problem is None else f"{wrong}: {problem}"

    return judged


response_check(API, "HQ-XML-003", operations=CREATE)(
    _conversation_created(generic.XML_TYPES, "the XML body is not the documented conversation")
)
response_check(API, "HQ-JSON-002", operations=CREATE)(
    _conversation_created(generic.JSON_TYPES, "the JSON body is not the conversation's twin")
)


# --- errors -----------------------------------------------------------------------------------


@response_check(API, "HQ-ERR-001")
def error_object(ex: Exchange):
    if ex.status < 400:
        return None
    if not ex.content.strip():
        return f"{ex.status} with an empty body, no error object"
    if ex.media_type not in generic.JSON_TYPES + generic.XML_TYPES:
        return f"{ex.status} body is {ex.media_type or 'untyped'}, not an error object"
    read = strict_body(ex, "ErrorDetail", "Error")
    if isinstance(read, str):
        return read
    problem = generic.schema_problem(API, *read)
    return True if problem is None else f"{ex.status} body is not the HighQ error object: {problem}"


# --- every operation ----------------------------------------------------------------------------

response_check(API, "HQ-HTTP-001")(generic.no_server_error)
response_check(API, "HQ-HTTP-002")(generic.rejects_malformed_input)
response_check(API, "HQ-HTTP-003")(generic.documented_status)
response_check(API, "HQ-AUTH-001")(generic.credentials_required)


@response_check(API, "HQ-INFO-001", operations=CREATE)
def schema_valid_conversation_accepted(ex: Exchange):
    if ex.mode != "positive" or not isinstance(ex.request_body, dict):
        return None
    if 200 <= ex.status < 300:
        return True
    body = generic.stable_example(ex.request_body)  # no run's ids: INFO details compare across runs
    return f"a schema-valid conversation was answered {ex.status}, e.g. body {body}"
