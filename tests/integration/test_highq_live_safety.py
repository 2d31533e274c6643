"""Safety for live HighQ targets, proven over a full HighQ run against the reference server.

Every request of the run is logged (method, URL, body: no headers, so no secrets). Each
body is read as the target would read it, JSON or XML (where every value is text), with
numeric strings and integral floats taken as the numbers a Java mapper would make of them.
Then every value that could name a user must be the recipient of the targets file (never
the sender, never anybody else), and no attachment id may name a file at all.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from defusedxml import ElementTree

from msgconform.runner import RunOptions, run
from msgconform.servers import TARGET_USERS

pytestmark = pytest.mark.integration
INT64_MAX = 2**63 - 1
NUMBER = re.compile(r"\s*[+-]?\d+(\.0*)?\s*")


def _as_id(value) -> int | None:
    """The record id a lenient reader could make of `value`, or None when none can."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and NUMBER.fullmatch(value):
        value = int(float(value))
    return value if isinstance(value, int) and 1 <= value <= INT64_MAX else None


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
    folder = tmp_path_factory.mktemp("highq-safety")
    log = folder / "exchanges.jsonl"
    result = run(RunOptions(apis=["highq"], max_examples=10, report_dir=folder / "reports", exchanges=log))
    return result, [json.loads(line) for line in log.read_text().splitlines()]


def test_the_run_was_full_and_sent_only_posts(logged_run):
    result, records = logged_run
    assert result.exit_status == 0
    assert len(records) > 100
    assert {r["method"] for r in records} == {"POST"}
    assert all(r["url"].split("?")[0].endswith("/demo/api/4/conversations/") for r in records)


def test_every_user_is_the_recipient_and_no_attachment_names_a_file(logged_run):
    _, records = logged_run
    users = TARGET_USERS["highq"]()
    recipient, sender = users["recipient"]["id"], users["sender"]["id"]
    checked = {"user": 0, "attachment": 0}
    for record in records:
        if not record["body"]:
            continue
        for kind, value in _body_ids(base64.b64decode(record["body"])):
            checked[kind] += 1
            named = _as_id(value)
            if kind == "user":
                assert named in (None, recipient), f"userid {value!r} names someone else (sender is {sender})"
            else:
                assert named is None, f"attachment id {value!r} could name a file"
    assert checked["user"] > 50 and checked["attachment"] > 5, checked
