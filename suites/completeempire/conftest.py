"""The CompleteEmpire harness: owned identifiers, follow-ups, and a small client for stories.

- Identifiers are uuids, which the shared IdRewriter (made for integer ids) does not know,
  so this suite owns them itself (`Owner`), by member name as Json.NET matches names (any
  case), anywhere in a body: every `account_id` and `email_address` becomes the
  recipient's from the targets file, `sender_account_id` and `sender_email` the sender's
  own; `attachments` is always empty (the run owns no file); `parent_id` names a message
  this run was answered with, or is left out; `id` and `subscription_id` become fresh
  guids derived from the run's seed (no record can have them); any other string that is a
  guid of the seed's samples becomes a fresh one too. Values of other types are kept:
  negative tests need them, and none can name a record.
- Follow-ups after every exchange: the id a success names goes to the pool of messages
  (parent_id of later sends), what successes answer is reported (CE-INFO-001), and the
  first success is repeated without valid credentials (CE-AUTH-001).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from defusedxml import ElementTree

from msgconform import specs
from msgconform.plugin import generic, xml
from msgconform.plugin.harness import ApiHarness, Exchange
from msgconform.plugin.xml import XML_TYPES
from suites.completeempire import checks  # noqa: F401  (registers the response checks)

API = "completeempire"
SEND = "/api/messages/sendmessage"
MODEL = "MessageComposeModel"
MARK = "[msgconform]"
GUID = re.compile(r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")
SERVER_MEMBERS = ("id", "subscription_id", "ts", "created_date", "can_delete")
NOT_FOR_CLIENTS = (*SERVER_MEMBERS, "parent_id", "attachments")  # left out of a valid send


def seed_guids(spec: dict) -> frozenset[str]:
    """Every guid in the seed samples the spec carries (JSON example and XML text)."""
    text = json.dumps(spec)
    return frozenset(str(uuid.UUID(g)) for g in GUID.findall(text))


def guid_of(value: Any) -> str | None:
    """The guid a .NET binder reads from `value` (any format), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().strip("{}()")
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


class Owner:
    """Makes every identifier of a body one the run owns (see the module docstring)."""

    def __init__(self, harness: ApiHarness) -> None:
        users = harness.target.users
        self.sender, self.recipient = users["sender"], users["recipient"]
        self.pools = harness.pools
        self.seed = harness.settings.seed
        self.forbidden = seed_guids(specs.load(API))

    def fresh(self, value: Any) -> str:
        """A guid no record can have, derived from the run's seed and `value` (replayable)."""
        digest = hashlib.sha256(f"{self.seed}:{value!r}".encode()).hexdigest()
        return str(uuid.UUID(digest[:32], version=4))

    def own(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.own(item) for item in value]
        if not isinstance(value, dict):
            if isinstance(value, str) and guid_of(value) in self.forbidden:
                return self.fresh(value)
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key.lower() if isinstance(key, str) else key
            if name == "parent_id" and isinstance(item, str):
                if self.pools.messages:
                    out[key] = self.pools.messages[
                        int(hashlib.sha256(item.encode()).hexdigest()[:8], 16) % len(self.pools.messages)
                    ]
                continue  # no message of this run yet: left out
            out[key] = self._member(name, item)
        return out

    def _member(self, name: Any, item: Any) -> Any:
        if name == "attachments" and isinstance(item, (list, str)):
            return []
        if isinstance(item, str):
            replacement = {
                "account_id": self.recipient.id,
                "email_address": self.recipient.email,
                "sender_account_id": self.sender.id,
                "sender_email": self.sender.email,
            }.get(name)
            if replacement is not None:
                return replacement
            if name in ("id", "subscription_id"):
                return self.fresh(item)
        return self.own(item)


class CompleteEmpire:
    """The harness plus the calls the stories need, each one judged by the checks."""

    def __init__(self, harness: ApiHarness) -> None:
        self.harness = harness
        self.users = harness.target.users
        self.owner = Owner(harness)
        self.successes: set[str] = set()  # what successes answered, for CE-INFO-001

    @property
    def recorder(self):
        return self.harness.recorder

    def subject(self, label: str) -> str:
        return f"{MARK} {label} {self.harness.unique()}"

    def recipient(self) -> dict[str, Any]:
        user = self.users["recipient"]
        return {"display_name": user.name or "Recipient", "email_address": user.email, "account_id": user.id}

    def message(self, label: str, field: str = "to", **members: Any) -> dict[str, Any]:
        """A valid message to the recipient in `field` (to, cc or bcc), with a subject and a body."""
        return {field: [self.recipient()], "subject": self.subject(label), "body": f"{MARK} {label}", **members}

    def send(
        self,
        body: Any,
        *,
        media_type: str = "application/json",
        accept: str = "application/json",
        role: str = "sender",
        raw: bytes | None = None,
    ) -> Exchange:
        """Send `body` written in `media_type` (JSON, XML by the codec, or a jQuery-style form),
        or the bytes `raw` as they are."""
        content = raw if raw is not None else encode(self.harness, body, media_type)
        with self.harness.client(role) as client:
            response = client.post(SEND, content=content, headers={"Content-Type": media_type, "Accept": accept})
        return self.harness.judged(response, role, body)

    def exercise(self, case: Any) -> Exchange | None:
        """A generated request, its identifiers owned, through the harness."""
        if isinstance(case.body, (dict, list, str)):
            case.body = self.owner.own(case.body)
        return self.harness.exercise(case)


def encode(harness: ApiHarness, body: Any, media_type: str) -> bytes:
    if media_type in XML_TYPES:
        _, _, operation = specs.operation(harness.raw_spec, "sendMessage")
        return xml.serialize_body(harness.raw_spec, operation, media_type, body)
    if media_type == "application/x-www-form-urlencoded":
        return urlencode(list(form_pairs(body))).encode()
    return json.dumps(body).encode()


def form_pairs(value: Any, prefix: str = ""):
    """jQuery-style keys, as ASP.NET's form binding reads them: to[0][account_id]=..."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from form_pairs(item, f"{prefix}[{key}]" if prefix else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from form_pairs(item, f"{prefix}[{index}]")
    elif value is not None:
        yield prefix, json.dumps(value) if isinstance(value, bool) else str(value)


# --- reading a success --------------------------------------------------------------------


def named_id(ex: Exchange) -> str | None:
    """The id a success names: in the body (the model's id, or the id alone) or the Location."""
    content = ex.content.strip()
    if content.startswith(b"<"):
        try:
            root = ElementTree.fromstring(content, forbid_dtd=True)
        except Exception:  # noqa: BLE001 - an unreadable body names nothing
            root = None
        if root is not None:
            if _local(root.tag) == "guid":
                return guid_of(root.text)
            found = [guid_of(child.text) for child in root if _local(child.tag) == "Id"]
            if found and found[0]:
                return found[0]
    elif content:
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if isinstance(body, str):
            return guid_of(body)
        if isinstance(body, dict):
            member = next((v for k, v in body.items() if isinstance(k, str) and k.lower() == "id"), None)
            if guid_of(member):
                return guid_of(member)
    location = ex.headers.get("location", "")
    tail = next(iter(GUID.findall(location)[-1:]), None)
    return guid_of(tail)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def answer_shape(ex: Exchange) -> str:
    """How a success answered, in words that stay the same from run to run."""
    body = "no body" if not ex.content.strip() else f"a body ({ex.media_type or 'untyped'})"
    named = "naming the new message" if named_id(ex) else "naming no message"
    location = " and a Location" if ex.headers.get("location") else ""
    return f"{ex.status} with {body}{location}, {named}"


def remember_and_report(session: CompleteEmpire):
    """Follow-up: keep the id a success names (parent_id of later sends); CE-INFO-001."""

    def followup(harness: ApiHarness, ex: Exchange) -> None:
        if ex.operation_id != "sendMessage" or not 200 <= ex.status < 300 or ex.role != "sender":
            return
        message = named_id(ex)
        if message and message not in harness.pools.messages and len(harness.pools.messages) < 20:
            harness.pools.messages.append(message)
        session.successes.add(answer_shape(ex))
        harness.recorder.observe("CE-INFO-001", "successful sends answered " + "; ".join(sorted(session.successes)))

    return followup


@pytest.fixture(scope="session")
def completeempire(msgconform_run) -> CompleteEmpire:
    harness = msgconform_run.harness(API, id_fields={})
    session = CompleteEmpire(harness)
    harness.followups += [remember_and_report(session), generic.credentials_enforced("CE-AUTH-001")]
    return session


@pytest.fixture(scope="session")
def completeempire_schema(completeempire: CompleteEmpire):
    return completeempire.harness.schema()
