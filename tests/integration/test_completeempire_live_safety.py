"""Safety for live CompleteEmpire targets, proven over a full run against the reference server.

Every request of the run is logged (method, URL, body, answer: no headers, so no secrets).
Each body is read as the vendor's binder would read it, JSON (member names in any case),
XML (every element, wherever it stands) or form (jQuery-style keys). Then every value that
could name an account (a guid in any .NET form) or an address (it has an @): every
account_id and email_address comes from the targets file, sender_account_id and
sender_email are the sender's own, attachments is always empty, parent_id names only a
message an earlier answer of this run named, and no guid of the seed's samples is sent at
all. Sends count against max_requests like every other request.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from urllib.parse import parse_qsl

import pytest
from defusedxml import ElementTree

from msgconform import specs
from msgconform.servers import TARGET_USERS
from tests.live_safety import assert_full_run, capped_run, full_run, request_body

pytestmark = pytest.mark.integration
GUID = re.compile(r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")
XML_NAMES = {"AccountId": "account_id", "EmailAddress": "email_address", "SenderAccountId": "sender_account_id",
             "SenderEmail": "sender_email", "ParentId": "parent_id", "Attachments": "attachments"}


def _guid(value) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value.strip().strip("{}()")))
    except ValueError:
        return None


def _address(value) -> bool:
    """Whether a value could be an e-mail address (it has an @)."""
    return isinstance(value, str) and "@" in value


def _members(node, key=None):
    """(member name, value) for every member of a JSON-like body, names lower-cased."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _members(v, str(k).lower())
    elif isinstance(node, list):
        if key == "attachments":
            yield key, node
        for item in node:
            yield from _members(item, key)
    elif key is not None:
        yield key, node


def _xml_members(root):
    for element in root.iter():
        name = XML_NAMES.get(str(element.tag).rsplit("}", 1)[-1])
        if name == "attachments":
            yield name, list(element)
        elif name:
            yield name, "".join(element.itertext())


def _form_members(text: str):
    for key, value in parse_qsl(text, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key.lower())
        if parts and parts[0] == "attachments":
            yield "attachments", [value]
        elif parts:
            yield parts[-1], value


def members(raw: bytes):
    text = raw.decode("utf-8", "replace")
    if text.lstrip().startswith("<"):
        try:
            return list(_xml_members(ElementTree.fromstring(raw)))
        except Exception:  # noqa: BLE001 - not XML the target could read either
            return []
    try:
        return list(_members(json.loads(text)))
    except ValueError:
        return list(_form_members(text))


def answered_ids(raw: bytes | None) -> set[str]:
    return {str(uuid.UUID(g)) for g in GUID.findall((raw or b"").decode("utf-8", "replace"))}


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory):
    return full_run(tmp_path_factory, "completeempire")


def test_the_run_was_full_and_sent_only_posts_to_send(logged_run):
    assert_full_run(logged_run, more_than=100, methods={"POST"}, path="/api/messages/sendmessage")


def test_every_identifier_on_the_wire_is_owned(logged_run):
    _, records = logged_run
    users = TARGET_USERS["completeempire"]()
    ids = {u["id"] for u in users.values()}
    emails = {u["email"] for u in users.values()}
    sender = users["sender"]
    answered: set[str] = set()
    checked = {"account_id": 0, "email_address": 0, "sender_account_id": 0, "attachments": 0, "parent_id": 0}
    for record in records:
        raw = request_body(record)
        for name, value in members(raw):
            # what could name an account or an address must be owned (None: nothing it could name)
            if name == "account_id" and _guid(value):
                assert _guid(value) in ids, value
                checked[name] += 1
            elif name == "email_address" and _address(value):
                assert value.strip() in emails, value
                checked[name] += 1
            elif name == "sender_account_id" and _guid(value):
                assert _guid(value) == sender["id"], value
                checked[name] += 1
            elif name == "sender_email" and _address(value):
                assert value.strip() == sender["email"], value
            elif name == "attachments":
                items = value if isinstance(value, list) else [value]
                texts = [getattr(i, "text", i) for i in items]
                assert not [t for t in texts if _guid(t)], f"attachments {texts!r} could name a file"
                assert not isinstance(value, list) or not value or raw.lstrip()[:1] not in (b"{", b"["), value
                checked[name] += 1
            elif name == "parent_id" and _guid(value):
                assert _guid(value) in answered, f"parent_id {value!r} names no message of this run"
                checked[name] += 1
        if record.get("response_body") and 200 <= (record.get("status") or 0) < 300:
            answered |= answered_ids(base64.b64decode(record["response_body"]))
    assert all(count > 0 for count in checked.values()), checked
    assert checked["account_id"] > 50, checked


def test_no_guid_of_the_seed_samples_reaches_the_target(logged_run):
    _, records = logged_run
    seed = {str(uuid.UUID(g)) for g in GUID.findall(json.dumps(specs.load("completeempire")))}
    assert len(seed) == 7
    for record in records:
        raw = request_body(record)
        sent = {str(uuid.UUID(g)) for g in GUID.findall(raw.decode("utf-8", "replace"))}
        assert not sent & seed, f"a seed guid was sent: {sent & seed}"


def test_sends_count_against_max_requests(tmp_path):
    records = capped_run(tmp_path, "completeempire", lambda toml: toml.replace("\n\n", "\nmax_requests = 40\n\n", 1))
    assert 30 < len(records) <= 40
