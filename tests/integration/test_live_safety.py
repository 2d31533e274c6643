"""Safety for live targets, proven over a full run against the reference server.

Every request of the run is logged (method, URL, body, status, Location, response body:
no headers, so no secrets). The test then replays the log in order and checks that every
person id in a request comes from the targets file and every message id from a response
that came before it; that only methods the spec declares were sent; and that the samples'
ids never reached the target.
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import unquote, urlsplit

import pytest

from msgconform import specs
from msgconform.servers import TARGET_USERS
from tests.live_safety import assert_full_run, full_run, request_body

pytestmark = pytest.mark.integration
MESSAGE_IN_PATH = re.compile(r"/restapi/personal/messages/([^/]+)/v1$")
PERSON_FIELDS = ("ToPersonIds", "BccPersonIds")
MESSAGE_FIELDS = ("ReplyToMessageId", "ForwardToMessageId")


INT64_MAX = 2**63 - 1


def _is_id(value) -> bool:
    """A value that could name a record: an integer from 1 to 2**63-1 (zero, negatives,
    numbers no 64-bit id can hold, and other types cannot; negative tests need them)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= INT64_MAX


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory):
    return full_run(tmp_path_factory)  # every API


def test_the_run_was_full(logged_run):
    assert_full_run(logged_run, more_than=100, methods={"GET", "POST"})


def test_only_declared_methods_were_sent(logged_run):
    declared = {m.upper() for item in specs.load("itslearning")["paths"].values() for m in item
                if m in {"get", "post", "put", "delete", "patch", "head", "options"}}
    _, records = logged_run
    assert {r["method"] for r in records} <= declared


def test_every_identifier_comes_from_the_targets_file_or_an_earlier_response(logged_run):
    _, records = logged_run
    people = {user["id"] for user in TARGET_USERS["itslearning"]().values()}
    outsider = TARGET_USERS["itslearning"]()["outsider"]["id"]
    known_messages: set[int] = set()
    checked_people = checked_messages = 0
    for record in records:
        path = urlsplit(record["url"]).path
        match = MESSAGE_IN_PATH.search(path)
        if match and match.group(1) != "send":
            raw = unquote(match.group(1))
            if raw.isdigit() and _is_id(int(raw)):
                assert int(raw) in known_messages, f"{record['method']} {path}: message id not from this run"
                checked_messages += 1
        body = _json_body(record)
        if isinstance(body, dict):
            for field in PERSON_FIELDS:
                for value in body.get(field) or [] if isinstance(body.get(field), list) else []:
                    if _is_id(value):
                        assert value in people and value != outsider, f"{field} {value} not from the targets file"
                        checked_people += 1
            for field in MESSAGE_FIELDS:
                if _is_id(body.get(field)):
                    assert body[field] in known_messages, f"{field} {body[field]} not from this run"
                    checked_messages += 1
        known_messages |= _message_ids_in_response(record)
    assert checked_people > 20 and checked_messages > 5, (checked_people, checked_messages)


def _json_body(record):
    if not record["body"]:
        return None
    try:
        return json.loads(request_body(record))
    except ValueError:
        return None


def _message_ids_in_response(record) -> set[int]:
    ids = set()
    if record.get("location"):
        match = re.search(r"/messages/(\d+)/v1", record["location"])
        if match:
            ids.add(int(match.group(1)))
    if record.get("response_body"):
        try:
            body = json.loads(base64.b64decode(record["response_body"]))
        except ValueError:
            body = None
        if isinstance(body, dict) and _is_id(body.get("MessageId")):
            ids.add(body["MessageId"])
    return ids
