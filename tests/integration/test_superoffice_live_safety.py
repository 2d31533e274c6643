"""Safety for live SuperOffice targets, proven over a full SuperOffice run against the
reference server (issue 14, item 6).

Every request of the run is logged (method, URL, body: no headers), with the sinks'
per-run credentials and addresses replaced by markers before they are written. Each body is
read as the target would read it (JSON), and then:

- every OutgoingConnectionInfo is the SMTP sink's (its address, user, password, no folder);
  every SentItemsConnectionInfo is null or the IMAP sink's: no request can make a target
  connect to another host;
- every recipient or sender address is the sender's own or `msgconform+...@example.test`;
- every id-like member the run does not own is 0 or null (numeric strings and floats count
  as ids, as Json.NET reads them), EMailSOInfo, InReplyTo and DuplicatePersonIds are null;
- custom header names start with X-Msgconform-, and no string that can become a header
  line carries CR or LF;
- `max_emails` is honoured: a run with a cap asks for no more e-mails than the cap.
"""

from __future__ import annotations

import json
import re

import pytest

from msgconform.servers import TARGET_USERS
from tests.live_safety import as_id, assert_full_run, capped_run, full_run, request_body

pytestmark = pytest.mark.integration
SAFE_ADDRESS = re.compile(r"msgconform\+[^@\s]+@example\.test")
ID_KEYS = {"EmailItemId", "AccountId", "ServerId", "ContactId", "PersonId", "AssociateId", "EmailId",
           "DocumentId", "AppointmentId", "ProjectId", "SaleId", "ArchivedBy"}
BODY_KEYS = {"PlainBody", "HTMLBody", "Stream"}
SINK = {"ServerName": "[sink-server]", "UserName": "[sink-username]", "Password": "[sink-password]", "Folder": None}
IMAP = {"ServerName": "[imap-server]", "UserName": "[imap-username]", "Password": "[imap-password]", "Folder": "Sent"}


def _walk(node, key=None):
    """(key, value) for every member of a JSON-like body, at any depth."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from _walk(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, key)


def _bodies(records):
    for record in records:
        if not record["body"]:
            continue
        try:
            yield json.loads(request_body(record))
        except ValueError:
            continue  # not JSON: the target cannot read a connection or an address from it


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory):
    return full_run(tmp_path_factory, "superoffice")


def test_the_run_was_full_and_sent_only_posts_to_sendemails(logged_run):
    assert_full_run(logged_run, more_than=20, methods={"POST"}, path="/api/v1/Agents/EMail/SendEMails")


def test_every_connection_is_a_sink_of_the_run(logged_run):
    _, records = logged_run
    seen = {"outgoing": 0, "sent items": 0}
    for body in _bodies(records):
        for key, value in _walk(body):
            if key == "OutgoingConnectionInfo":
                seen["outgoing"] += 1
                assert isinstance(value, dict), f"OutgoingConnectionInfo {value!r}"
                assert {k: value.get(k) for k in SINK} == SINK and isinstance(value.get("UseSSL"), bool), value
                assert set(value) <= {*SINK, "UseSSL"}, value
            elif key == "SentItemsConnectionInfo" and value is not None:
                seen["sent items"] += 1
                assert {k: value.get(k) for k in IMAP} == IMAP and value.get("UseSSL") is False, value
    assert seen["outgoing"] > 20 and seen["sent items"] >= 1, seen


def test_every_address_is_the_sender_or_a_msgconform_address(logged_run):
    _, records = logged_run
    sender = TARGET_USERS["superoffice"]()["sender"]["email"]
    checked = 0
    for body in _bodies(records):
        for key, value in _walk(body):
            if key == "Address" and value is not None:
                checked += 1
                assert value == sender or (isinstance(value, str) and SAFE_ADDRESS.fullmatch(value)), value
    assert checked > 30


def test_no_id_the_run_does_not_own_and_nothing_filed_in_a_crm(logged_run):
    _, records = logged_run
    checked = 0
    for body in _bodies(records):
        for key, value in _walk(body):
            if key in ID_KEYS:
                checked += 1
                assert as_id(value) is None, f"{key} = {value!r} could name a record"
            elif key in ("EMailSOInfo", "InReplyTo", "DuplicatePersonIds"):
                assert value is None, f"{key} = {value!r}"
    assert checked > 30


def test_custom_headers_are_ours_and_no_header_line_can_be_injected(logged_run):
    _, records = logged_run
    names = 0
    for body in _bodies(records):
        for key, value in _walk(body):
            if key == "CustomHeaderList" and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and isinstance(item.get("Name"), str):
                        names += 1
                        assert item["Name"].startswith("X-Msgconform-"), item["Name"]
            if isinstance(value, str) and key not in BODY_KEYS:
                assert "\r" not in value and "\n" not in value, f"{key} carries a line break"
    assert names >= 2


def test_max_emails_is_honoured(tmp_path):
    """A targets file with max_emails = 6: the whole run asks for at most six e-mails."""
    sender = "[superoffice.users.sender]"
    records = capped_run(tmp_path, "superoffice", lambda toml: toml.replace(sender, f"max_emails = 6\n\n{sender}"))
    asked = sum(len(body["Emails"]) for body in _bodies(records)
                if isinstance(body, dict) and isinstance(body.get("Emails"), list))
    assert records and asked <= 6, asked
