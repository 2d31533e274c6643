"""Safety for live HighQ targets, proven over a full HighQ run against the reference server.

Every request of the run is logged (method, URL, body: no headers, so no secrets). Each
body is read as the target would read it, JSON or XML (where every value is text), with
numeric strings and integral floats taken as the numbers a Java mapper would make of them.
Then every value that could name a user must be the recipient of the targets file (never
the sender, never anybody else), and no attachment id may name a file at all.
"""

from __future__ import annotations

import json

import pytest
from defusedxml import ElementTree

from msgconform.servers import TARGET_USERS
from tests.live_safety import as_id, assert_full_run, full_run, request_body

pytestmark = pytest.mark.integration


def _ids(node, key=None, parent=None):
    """(kind, value) for every userid and attachment id in a JSON-like body."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _ids(v, k, key)
    elif isinstance(node, list):
        for item in node:
            yield from _ids(item, key, parent)
    elif key == "userid":
        yield "user", node
    elif key == "id" and parent == "attachment":
        yield "attachment", node


def _xml_ids(data: bytes):
    try:
        root = ElementTree.fromstring(data)
    except Exception:  # noqa: BLE001 - not XML the target could read either
        return
    for element in root.iter():
        if element.tag == "userid":
            yield "user", element.text or ""
        if element.tag == "attachment":
            for child in element:
                if child.tag == "id":
                    yield "attachment", child.text or ""


def _body_ids(raw: bytes):
    if raw.lstrip().startswith(b"<"):
        return list(_xml_ids(raw))
    try:
        return list(_ids(json.loads(raw)))
    except ValueError:
        return []


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory):
    return full_run(tmp_path_factory, "highq")


def test_the_run_was_full_and_sent_only_posts(logged_run):
    assert_full_run(logged_run, more_than=100, methods={"POST"}, path="/demo/api/4/conversations/")


def test_every_user_is_the_recipient_and_no_attachment_names_a_file(logged_run):
    _, records = logged_run
    users = TARGET_USERS["highq"]()
    recipient, sender = users["recipient"]["id"], users["sender"]["id"]
    checked = {"user": 0, "attachment": 0}
    for record in records:
        if not record["body"]:
            continue
        for kind, value in _body_ids(request_body(record)):
            checked[kind] += 1
            named = as_id(value)
            if kind == "user":
                assert named in (None, recipient), f"userid {value!r} names someone else (sender is {sender})"
            else:
                assert named is None, f"attachment id {value!r} could name a file"
    assert checked["user"] > 50 and checked["attachment"] > 5, checked
