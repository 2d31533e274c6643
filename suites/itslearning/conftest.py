"""The itslearning harness: identifiers, follow-ups, and a small client for stories.

- Identifiers: `ToPersonIds`/`BccPersonIds` hold people (recipient and bcc from the targets
  file, never the outsider); `ReplyToMessageId`, `ForwardToMessageId` and the path's
  `messageId` hold messages this run created.
- Follow-ups after every exchange: a 201 from send is followed through its Location
  (ITS-SEND-003), and the first success of each operation is repeated without valid
  credentials (ITS-AUTH-001).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

from msgconform import specs
from msgconform.plugin import generic, xml
from msgconform.plugin.harness import ApiHarness, Exchange
from msgconform.plugin.xml import XML_TYPES
from msgconform.xmlcodec import XmlError
from suites.itslearning import checks  # noqa: F401  (registers the response checks)

API = "itslearning"
SEND = "/restapi/personal/messages/send/v1"
SEARCH = "/restapi/personal/messages/recipients/search/v1"
ID_FIELDS = {
    "ToPersonIds": "person",
    "BccPersonIds": "person",
    "ReplyToMessageId": "message",
    "ForwardToMessageId": "message",
    "messageId": "message",
}
SUBJECT_PREFIX = "[msgconform]"


class Itslearning:
    """The harness plus the few calls the stories need, each one judged by the checks."""

    def __init__(self, harness: ApiHarness) -> None:
        self.harness = harness
        self.users = harness.target.users
        self.bootstrapped = False

    def subject(self, label: str) -> str:
        """A recognizable subject, unique in the run and derived from the seed (replayable)."""
        return f"{SUBJECT_PREFIX} {label} {self.harness.unique()}"

    def send(
        self,
        body: dict[str, Any],
        *,
        role: str | None = "sender",
        media_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Exchange:
        """Send `body` written in `media_type` (JSON, XML by the codec, or form-encoded).

        `role` None sends no credentials; `headers` are added (e.g. a wrong token)."""
        with self.harness.client(role) as client:
            response = client.post(
                SEND,
                content=encode(self.harness, body, media_type),
                headers={"Content-Type": media_type, **(headers or {})},
            )
        return self.harness.judged(response, role, body)

    def get(
        self, url: str, *, role: str | None, accept: str = "application/json", headers: dict[str, str] | None = None
    ) -> Exchange:
        with self.harness.client(role) as client:
            response = client.get(url, headers={"Accept": accept, **(headers or {})})
        return self.harness.judged(response, role, followups=False)

    def search(self, text: str, *, role: str = "sender") -> Exchange:
        """The recipient search (`searchText`), answered as JSON."""
        with self.harness.client(role) as client:
            response = client.get(SEARCH, params={"searchText": text}, headers={"Accept": "application/json"})
        return self.harness.judged(response, role, followups=False)

    def message_url(self, message_id: int | str) -> str:
        return f"/restapi/personal/messages/{message_id}/v1"

    def location(self, sent: Exchange) -> str | None:
        """The absolute URL a successful send's Location names (absolute or relative), or None."""
        location = sent.headers.get("location", "").strip()
        if not 200 <= sent.status < 300 or not location:
            return None
        return urljoin(str(self.harness.target.base_url) + SEND, location)

    def message(self, got: Exchange) -> dict | None:
        """The Message of a 200 answer to get, read from JSON or (by the codec) XML; else None."""
        if got.status != 200:
            return None
        if got.media_type in XML_TYPES:
            return read_xml(self.harness, got)
        try:
            body = got.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None


def encode(harness: ApiHarness, body: dict[str, Any], media_type: str) -> bytes:
    if media_type in XML_TYPES:
        _, _, operation = specs.operation(harness.raw_spec, "send")
        return xml.serialize_body(harness.raw_spec, operation, media_type, body)
    if media_type == "application/x-www-form-urlencoded":
        pairs = [
            (k, v)
            for k, values in body.items()
            for v in (values if isinstance(values, list) else [values])
            if v is not None
        ]
        return urlencode(pairs).encode()
    return json.dumps(body).encode()


def same_values(as_json: dict, as_xml: dict) -> str | None:
    """The first field both carry with different values (date-times compared as instants)."""
    for key in sorted(set(as_json) & set(as_xml)):
        left, right = as_json[key], as_xml[key]
        if isinstance(left, str) and isinstance(right, str) and _instant(left) and _instant(left) == _instant(right):
            continue
        if left != right:
            return f"{key} is {left!r} as JSON but {right!r} as XML"
    return None


def _instant(text: str):
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def read_xml(harness: ApiHarness, exchange: Exchange) -> dict | None:
    """The value of an XML 200 answer to get, read by the spec-driven codec; None if unreadable
    (ITS-XML-002 and ITS-XML-003 judge such answers)."""
    if exchange.status != 200 or exchange.media_type not in XML_TYPES or exchange.case is None:
        return None
    schema = xml.response_schema(harness.raw_spec, exchange.case.operation.definition.raw, 200, exchange.media_type)
    if schema is None:  # the spec documents no XML body for this answer
        return None
    try:
        value = xml.codec_for(exchange.case.operation.schema.raw_schema).loads(exchange.content, schema)
    except XmlError:
        return None
    return value if isinstance(value, dict) else None


def compare_formats(harness: ApiHarness, url: str, as_json: dict) -> None:
    """ITS-XML-004: the message read again as XML carries the values it had as JSON."""
    with harness.client("sender") as client:
        response = client.get(url, headers={"Accept": "application/xml"})
    exchange = harness.exchange_from_httpx(response, "sender")
    harness.run_checks(exchange)
    if response.status_code != 200 or exchange.media_type not in XML_TYPES or exchange.case is None:
        return  # judged by ITS-XML-002 and the status checks
    as_xml = read_xml(harness, exchange)
    if as_xml is None:
        return  # judged by ITS-XML-003
    difference = same_values(as_json, as_xml)
    harness.recorder.judge("ITS-XML-004", difference is None, f"{difference} (GET {urlsplit(url).path})")


def follow_location(harness: ApiHarness, ex: Exchange) -> None:
    """ITS-SEND-003: the Location of a successful send leads, for the sender, to the sent message."""
    if ex.operation_id != "send" or not 200 <= ex.status < 300 or ex.role != "sender":
        return
    location = ex.headers.get("location", "").strip()
    if not location:
        return  # judged by ITS-SEND-002
    url = urljoin(str(harness.target.base_url) + ex.path, location)
    with harness.client("sender") as client:
        response = client.get(url, headers={"Accept": "application/json"})
    followed = harness.exchange_from_httpx(response, "sender")
    harness.run_checks(followed)
    if response.status_code != 200:
        harness.recorder.judge("ITS-SEND-003", False, f"GET {location} (the Location) answered {response.status_code}")
        return
    try:
        message = response.json()
    except ValueError:
        harness.recorder.judge("ITS-SEND-003", False, f"GET {location} answered 200 without a JSON message")
        return
    sent = ex.request_body if isinstance(ex.request_body, dict) else {}
    for field in ("Subject", "Text"):
        if _plain(sent.get(field)) and message.get(field) != sent[field]:
            harness.recorder.judge(
                "ITS-SEND-003", False, f"GET {location} gave {field} {message.get(field)!r}, sent {sent[field]!r}"
            )
            return
    harness.recorder.judge("ITS-SEND-003", True)
    if isinstance(message, dict) and len(harness.pools.messages) < 5:
        compare_formats(harness, url, message)  # a few messages suffice
    message_id = message.get("MessageId")
    if isinstance(message_id, int) and not isinstance(message_id, bool) and message_id not in harness.pools.messages:
        harness.pools.messages.append(message_id)


def _plain(value: Any) -> bool:
    """Text a vendor has no reason to normalize (the stories' own subjects and texts)."""
    return isinstance(value, str) and value.startswith(SUBJECT_PREFIX)


@pytest.fixture(scope="session")
def itslearning_session(msgconform_run) -> Itslearning:
    """The API's harness and story client, shared by every test (sends nothing itself)."""
    harness = msgconform_run.harness(API, id_fields=ID_FIELDS)
    harness.followups += [follow_location, generic.credentials_enforced("ITS-AUTH-001")]
    return Itslearning(harness)


@pytest.fixture
def itslearning(itslearning_session: Itslearning) -> Itslearning:
    """Function-scoped, so that the run's first request happens inside a test (and its cassette)."""
    if not itslearning_session.bootstrapped:
        itslearning_session.bootstrapped = True
        # A first message, so that generated requests have a message of this run to name.
        users = itslearning_session.users
        itslearning_session.send(
            {
                "ToPersonIds": [users["recipient"].id],
                "BccPersonIds": [users["bcc"].id],
                "Subject": itslearning_session.subject("bootstrap"),
                "Text": f"{SUBJECT_PREFIX} first message of the run",
            }
        )
    return itslearning_session


@pytest.fixture(scope="session")
def itslearning_schema(itslearning_session: Itslearning):
    return itslearning_session.harness.schema()
