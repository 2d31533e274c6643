"""The itslearning harness: identifiers, follow-ups, and a small client for stories.

- Identifiers: `ToPersonIds`/`BccPersonIds` hold people (recipient and bcc from the targets
  file, never the outsider); `ReplyToMessageId`, `ForwardToMessageId` and the path's
  `messageId` hold messages this run created.
- Follow-ups after every exchange: a 201 from send is followed through its Location
  (ITS-SEND-003), and the first success of each operation is repeated without valid
  credentials (ITS-AUTH-001).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urljoin

import pytest

from msgconform.plugin.harness import ApiHarness, Exchange
from suites.itslearning import checks  # noqa: F401  (registers the response checks)

API = "itslearning"
SEND = "/restapi/personal/messages/send/v1"
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
        self._nonce = 0

    def subject(self, label: str) -> str:
        """A recognizable subject, unique in the run and derived from the seed (replayable)."""
        self._nonce += 1
        digest = hashlib.sha256(f"{self.harness.settings.seed}:{self._nonce}".encode()).hexdigest()[:8]
        return f"{SUBJECT_PREFIX} {label} {digest}"

    def send(self, body: dict[str, Any], *, role: str = "sender", media_type: str = "application/json") -> Exchange:
        import json

        with self.harness.client(role) as client:
            response = client.post(SEND, content=json.dumps(body), headers={"Content-Type": media_type})
        exchange = self.harness.exchange_from_httpx(response, role, body)
        self.harness.run_checks(exchange)
        for followup in self.harness.followups:
            followup(self.harness, exchange)
        return exchange

    def get(self, url: str, *, role: str, accept: str = "application/json") -> Exchange:
        with self.harness.client(role) as client:
            response = client.get(url, headers={"Accept": accept})
        exchange = self.harness.exchange_from_httpx(response, role)
        self.harness.run_checks(exchange)
        return exchange

    def message_url(self, message_id: int) -> str:
        return f"/restapi/personal/messages/{message_id}/v1"


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
    message_id = message.get("MessageId")
    if isinstance(message_id, int) and not isinstance(message_id, bool) and message_id not in harness.pools.messages:
        harness.pools.messages.append(message_id)


def _plain(value: Any) -> bool:
    """Text a vendor has no reason to normalize (the stories' own subjects and texts)."""
    return isinstance(value, str) and value.startswith(SUBJECT_PREFIX)


def credentials_enforced(harness: ApiHarness, ex: Exchange) -> None:
    """ITS-AUTH-001: the first success of each operation, repeated without valid credentials."""
    if not 200 <= ex.status < 300 or ex.role == "anonymous" or ex.operation_id in harness._auth_probed:
        return
    if ex.response is None or not hasattr(ex.response.request, "copy"):
        return
    harness._auth_probed.add(ex.operation_id)
    for label, headers in (("no credentials", {}), ("an invalid token", {"Authorization": "Bearer msgconform-invalid"})):
        status = harness.resend_without_credentials(ex, headers)
        if status is None:
            return
        if status in (401, 403):
            harness.recorder.judge("ITS-AUTH-001", True)
        else:
            harness.recorder.judge("ITS-AUTH-001", False, f"with {label}, {ex.where} answered {status}")


@pytest.fixture(scope="session")
def itslearning(msgconform_run) -> Itslearning:
    harness = msgconform_run.harness(API, id_fields=ID_FIELDS)
    harness.followups += [follow_location, credentials_enforced]
    session = Itslearning(harness)
    # A first message, so that generated requests have a message of this run to name.
    recipient, bcc = session.users["recipient"].id, session.users["bcc"].id
    session.send({"ToPersonIds": [recipient], "BccPersonIds": [bcc],
                  "Subject": session.subject("bootstrap"), "Text": f"{SUBJECT_PREFIX} first message of the run"})
    return session


@pytest.fixture(scope="session")
def itslearning_schema(itslearning: Itslearning):
    return itslearning.harness.schema()
