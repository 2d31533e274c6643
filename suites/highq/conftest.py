"""The HighQ harness: identifiers, follow-ups, and a small client for stories.

- Identifiers: `userid` holds people (the recipient from the targets file, never the
  sender); an attachment's `id` names a file, and the run owns none, so it always becomes 0:
  a conversation may never carry someone else's file to the recipient. The harness's
  IdRewriter also treats "3002" and 3002.0 as ids (a Java JSON mapper coerces them, and XML
  carries every value as text).
- Follow-ups after every exchange: the status of each success is reported (HQ-CONV-004),
  and the first success is repeated without valid credentials (HQ-AUTH-001).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from msgconform import specs
from msgconform.plugin import generic, xml
from msgconform.plugin.harness import ApiHarness, Exchange
from msgconform.plugin.xml import XML_TYPES
from suites.highq import checks  # noqa: F401  (registers the response checks)

API = "highq"
CONVERSATIONS = "/4/conversations/"
ID_FIELDS = {"userid": "person", "attachment.id": "file"}
MARK = "[msgconform]"


class HighQ:
    """The harness plus the few calls the stories need, each one judged by the checks."""

    def __init__(self, harness: ApiHarness) -> None:
        self.harness = harness
        self.users = harness.target.users
        self.statuses: set[int] = set()  # of the successes seen, for HQ-CONV-004

    def html(self, label: str) -> str:
        """A recognizable message body, unique in the run and derived from the seed (replayable)."""
        return f"<p>{MARK} {label} {self.harness.unique()}</p>"

    def conversation(self, label: str, *userids: Any, messages: int = 1) -> dict[str, Any]:
        """The seed's conversation object: these recipients (default: the recipient) and
        `messages` messages, each with its own html."""
        recipients = userids or (self.users["recipient"].id,)
        return {
            "recipients": {"users": {"user": [{"userid": u} for u in recipients]}},
            "messages": {"message": [{"html": self.html(label)} for _ in range(messages)]},
        }

    def create(
        self, body: Any, *, media_type: str = "application/json", accept: str = "application/json", role: str = "sender"
    ) -> Exchange:
        """Start a conversation with `body` written in `media_type` (JSON, or XML by the codec)."""
        with self.harness.client(role) as client:
            response = client.post(
                CONVERSATIONS,
                content=encode(self.harness, body, media_type),
                headers={"Content-Type": media_type, "Accept": accept},
            )
        return self.harness.judged(response, role, body)

    def exercise(self, case: Any) -> Exchange | None:
        """A generated request, through the harness (which makes its identifiers safe)."""
        return self.harness.exercise(case)


def encode(harness: ApiHarness, body: Any, media_type: str) -> bytes:
    if media_type in XML_TYPES:
        _, _, operation = specs.operation(harness.raw_spec, "createConversation")
        return xml.serialize_body(harness.raw_spec, operation, media_type, body)
    return json.dumps(body).encode()


def report_success_status(session: HighQ):
    """HQ-CONV-004: which success code the target uses (200 per the prose, 201 per the table)."""

    def followup(harness: ApiHarness, ex: Exchange) -> None:
        if ex.operation_id != "createConversation" or not 200 <= ex.status < 300:
            return
        session.statuses.add(ex.status)
        seen = " and ".join(str(status) for status in sorted(session.statuses))
        harness.recorder.observe("HQ-CONV-004", f"successful new conversations were answered {seen}")

    return followup


@pytest.fixture(scope="session")
def highq(msgconform_run) -> HighQ:
    harness = msgconform_run.harness(API, id_fields=ID_FIELDS)
    session = HighQ(harness)
    harness.followups += [report_success_status(session), generic.credentials_enforced("HQ-AUTH-001")]
    return session


@pytest.fixture(scope="session")
def highq_schema(highq: HighQ):
    return highq.harness.schema()
