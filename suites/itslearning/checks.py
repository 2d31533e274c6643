"""itslearning response checks: each binds one catalogued case to a judgement.

They run on every exchange of the API, from fuzzing, the state machine and the scenario
tests alike. A check returns None when the exchange says nothing about its case.
"""

from __future__ import annotations

import re

from msgconform.plugin import generic
from msgconform.plugin.checks import response_check
from msgconform.plugin.harness import Exchange

API = "itslearning"
UTC_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]00:00)$")


def _message(exchange: Exchange) -> dict | None:
    """The JSON body of a 200 answer to get, or None."""
    if exchange.status != 200 or exchange.media_type not in generic.JSON_TYPES:
        return None
    try:
        body = exchange.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


# --- send (seed 000) ---------------------------------------------------------------------


@response_check(API, "ITS-SEND-001", operations=["send"])
def send_answers_created(ex: Exchange):
    if not 200 <= ex.status < 300:
        return None
    return True if ex.status == 201 else f"send succeeded with {ex.status}, not 201 Created"


@response_check(API, "ITS-SEND-002", operations=["send"])
def created_has_location(ex: Exchange):
    if not 200 <= ex.status < 300:
        return None
    return True if ex.headers.get("location", "").strip() else f"{ex.status} without a Location header"


# --- get (seed 003) ----------------------------------------------------------------------

response_check(API, "ITS-GET-003", operations=["get"])(generic.body_matches_schema((200,)))
response_check(API, "ITS-GET-005", operations=["get"])(generic.content_type_as_asked((200,), generic.JSON_TYPES))
response_check(API, "ITS-XML-002", operations=["get"])(generic.content_type_as_asked((200,), generic.XML_TYPES))
response_check(API, "ITS-XML-003", operations=["get"])(generic.xml_as_documented((200,)))


@response_check(API, "ITS-GET-004", operations=["get"])
def date_received_is_utc(ex: Exchange):
    message = _message(ex)
    if message is None or not isinstance(message.get("DateReceived"), str):
        return None
    value = message["DateReceived"]
    return True if UTC_DATE_TIME.match(value) else f"DateReceived {value!r} is not a UTC date-time"


@response_check(API, "ITS-GET-008", operations=["get"])
def last_dates_are_utc(ex: Exchange):
    message = _message(ex)
    if message is None:
        return None
    values = {k: message.get(k) for k in ("LastRepliedDateTime", "LastForwardedDateTime")}
    values = {k: v for k, v in values.items() if v is not None}
    if not values:
        return None  # nothing replied or forwarded yet: nothing to judge
    wrong = next(
        (
            f"{k} {v!r} is not a UTC date-time"
            for k, v in values.items()
            if not isinstance(v, str) or not UTC_DATE_TIME.match(v)
        ),
        None,
    )
    return wrong or True


@response_check(API, "ITS-GET-006", operations=["get"])
def has_attachments_matches(ex: Exchange):
    message = _message(ex)
    if message is None or not isinstance(message.get("HasAttachments"), bool):
        return None
    attachments = message.get("Attachments") or []
    expected = isinstance(attachments, list) and len(attachments) > 0
    if message["HasAttachments"] == expected:
        return True
    return f"HasAttachments is {message['HasAttachments']} with {len(attachments)} attachment(s)"


# --- every operation ---------------------------------------------------------------------

response_check(API, "ITS-HTTP-001")(generic.no_server_error)
response_check(API, "ITS-HTTP-002")(generic.rejects_malformed_input)
response_check(API, "ITS-HTTP-003")(generic.documented_status)
response_check(API, "ITS-AUTH-001")(generic.credentials_required)


@response_check(API, "ITS-HTTP-004")
def error_object(ex: Exchange):
    if not 400 <= ex.status < 500 or not ex.content.strip():
        return None  # a bare 4xx (for example an empty 404) is allowed
    if ex.media_type in generic.JSON_TYPES:
        try:
            body = ex.json()
        except ValueError:
            return f"{ex.status} body is not valid JSON"
        if isinstance(body, dict) and isinstance(body.get("Message"), str):
            return True
        return f"{ex.status} body is JSON without a string Message"
    if ex.media_type in ("application/xml", "text/xml"):
        return True if re.search(rb"<(\w+:)?Error[\s>/]", ex.content) else f"{ex.status} XML body has no Error root"
    return f"{ex.status} body is {ex.media_type or 'untyped'}, not an error object"


@response_check(API, "ITS-INFO-001", operations=["send"])
def schema_valid_send_accepted(ex: Exchange):
    if ex.mode != "positive":
        return None
    if 200 <= ex.status < 300:
        return True
    body = generic.stable_example(ex.request_body)  # no run's ids: INFO details compare across runs
    return f"schema-valid send answered {ex.status}, e.g. body {body}"
