"""CE-HTTP-002 judges the bytes sent by the vendor's binder rules: a generated negative
request the binders the spec names (msgconform.binders: jsonnet, datacontract, aspnet-form)
read as a valid message is not held against a vendor that accepts it, and one they cannot
read is."""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pytest

from msgconform import binders, specs
from msgconform.plugin.harness import Exchange
from suites.completeempire.checks import unreadable_input_refused

MODELS = "http://schemas.datacontract.org/2004/07/CompleteEmpireApp.Api.Models"
RECIPIENT = "9b2c7d14-3e5f-4a86-b0c9-71d2e8f3a605"
TO = f"<To><MessageRecipientModel><AccountId>{RECIPIENT}</AccountId></MessageRecipientModel></To>"


SPEC = specs.load("completeempire")
REQUEST_BODY = specs.operation(SPEC, "sendMessage")[2]["requestBody"]


def exchange(raw: bytes, media: str, status: int) -> Exchange:
    """A generated negative request, negative only where the binder cannot read it (as the harness decides)."""
    reasons = tuple(binders.body_problems(SPEC, REQUEST_BODY, media, raw))
    return Exchange(operation_id="sendMessage", method="POST", path="/api/messages/sendmessage", status=status,
                    headers=httpx.Headers({"content-type": "application/json"}), content=b"{}",
                    request_headers=httpx.Headers({"content-type": media, "authorization": "Bearer x"}),
                    request_content=raw, request_media_type=media, negative=bool(reasons),
                    negative_reasons=reasons, mode="negative", credential_names=("authorization",),
                    response=SimpleNamespace(request=SimpleNamespace(body=raw)))


def xml(inner: str) -> bytes:
    return f'<MessageComposeModel xmlns="{MODELS}">{inner}</MessageComposeModel>'.encode()


READABLE = [
    (json.dumps({"to": [{"account_id": RECIPIENT.replace("-", "")}], "importance": "1"}).encode(), "application/json"),
    (json.dumps({"to": [{"account_id": RECIPIENT}], "importance": 9, "send": "true", "Subject": 5}).encode(),
     "text/json"),
    (xml(f"<Body>b</Body><Subject>out of order</Subject>{TO}"), "application/xml"),
    (xml(f"<Bcc>AAA</Bcc>{TO}"), "text/xml"),  # text inside a wrapper, as in issue 12
    (xml(f"<Unknown/>{TO}<To/>"), "application/xml"),  # unknown and repeated elements
    (b"Subject=5&send=True&importance=1", "application/x-www-form-urlencoded"),  # form values are text
]
UNREADABLE = [
    (b"{", "application/json"),
    (json.dumps({"to": "rita"}).encode(), "application/json"),
    (json.dumps({"sender_account_id": "me"}).encode(), "text/json"),
    (xml("<Importance>0</Importance>"), "application/xml"),
    (xml("<Send>maybe</Send>"), "text/xml"),
    (b"<Other/>", "application/xml"),
    (b"send=maybe", "application/x-www-form-urlencoded"),
]


@pytest.mark.parametrize(("raw", "media"), READABLE)
def test_a_body_the_binder_reads_is_never_held_against_an_accepting_vendor(raw: bytes, media: str) -> None:
    assert unreadable_input_refused(exchange(raw, media, 200)) is None


@pytest.mark.parametrize(("raw", "media"), UNREADABLE)
def test_a_body_the_binder_cannot_read_must_be_refused(raw: bytes, media: str) -> None:
    assert "cannot read" in unreadable_input_refused(exchange(raw, media, 200))
    assert unreadable_input_refused(exchange(raw, media, 400)) is True
    assert unreadable_input_refused(exchange(raw, media, 500)) is None  # CE-HTTP-001's concern
