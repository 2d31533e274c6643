"""The .NET binder profile (msgconform.servers._dotnet_bind): what Json.NET and
DataContractSerializer read, convert, skip and refuse, on CompleteEmpire's model.

These rules decide which requests count as invalid for CE-HTTP-002, so each is pinned
with the example that motivates it."""

from __future__ import annotations

import json

import pytest

from msgconform import binders, specs
from msgconform.servers import _dotnet_bind as dotnet_binder

SPEC = specs.load("completeempire")
MODELS = "http://schemas.datacontract.org/2004/07/CompleteEmpireApp.Api.Models"
GUID = "9b2c7d14-3e5f-4a86-b0c9-71d2e8f3a605"


def json_bound(value) -> dotnet_binder.Bound:
    return dotnet_binder.bind(SPEC, "MessageComposeModel", json.dumps(value).encode(), "application/json")


def xml_bound(inner: str) -> dotnet_binder.Bound:
    document = f'<MessageComposeModel xmlns="{MODELS}">{inner}</MessageComposeModel>'
    return dotnet_binder.bind(SPEC, "MessageComposeModel", document.encode(), "application/xml")


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ({"importance": 7}, {"importance": 7}),  # any integer binds to an enum
        ({"importance": "1"}, {"importance": 1}),
        ({"importance": "low"}, {"importance": 0}),  # names, any case
        ({"importance": 2.0}, {"importance": 2}),
        ({"send": "TRUE"}, {"send": True}),
        ({"send": 0}, {"send": False}),
        ({"subject": 5}, {"subject": "5"}),  # a number for a string
        ({"sender_account_id": GUID.replace("-", "")}, {"sender_account_id": GUID}),
        ({"sender_account_id": "{" + GUID + "}"}, {"sender_account_id": GUID}),
        ({"Subject": "x", "unknown": [1]}, {"subject": "x"}),  # names match in any case; unknown ignored
        ({"to": None, "parent_id": None, "ts": None}, {"to": None, "parent_id": None, "ts": None}),
        ({"to": [None, {"account_id": GUID}]}, {"to": [None, {"account_id": GUID}]}),
    ],
)
def test_json_values_json_net_converts_are_readable(value, read) -> None:
    bound = json_bound(value)
    assert bound.readable, bound.errors
    assert bound.value == read


@pytest.mark.parametrize(
    "value",
    [
        {"importance": "Urgent"}, {"importance": True}, {"importance": 1.5}, {"importance": 2**40},
        {"send": "maybe"}, {"send": None}, {"sender_account_id": "me"}, {"sender_account_id": None},
        {"to": "rita"}, {"to": {"account_id": GUID}}, {"to": [5]}, {"subject": {"a": 1}}, {"subject": [1]},
        {"attachments": ["x"]}, {"ts": "not base64!"}, {"created_date": "yesterday"}, {"created_date": 5},
    ],
)
def test_json_values_json_net_cannot_convert_are_errors(value) -> None:
    assert not json_bound(value).readable


@pytest.mark.parametrize("raw", [b"", b"{", b"[1]", b'"text"', b"\xff"])
def test_json_bodies_without_a_model_are_errors(raw) -> None:
    assert not dotnet_binder.bind(SPEC, "MessageComposeModel", raw, "text/json").readable


def test_xml_out_of_order_unknown_and_foreign_elements_are_skipped_not_errors() -> None:
    bound = xml_bound(f"<Body>b</Body><Subject>s</Subject><Unknown>u</Unknown>"
                      f"<Send xmlns='urn:other'>maybe</Send><To>text<MessageRecipientModel>"
                      f"<AccountId>{GUID}</AccountId></MessageRecipientModel></To><Body>late</Body>")
    assert bound.readable, bound.errors
    # Subject belongs before Body, and the second Body comes after To: both skipped
    assert bound.value == {"body": "b", "to": [{"account_id": GUID}]}


def test_xml_conversions_are_xmlconvert_s() -> None:
    assert xml_bound("<Importance>High</Importance><Send>1</Send>").value == {"importance": 2, "send": True}
    assert not xml_bound("<Importance>0</Importance>").readable  # a number is not a member name
    assert not xml_bound("<Importance>low</Importance>").readable  # names are exact
    assert not xml_bound("<Send>TRUE</Send>").readable
    assert not xml_bound(f"<SenderAccountId>{GUID[:-1]}</SenderAccountId>").readable
    nil = 'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
    assert xml_bound(f'<Body {nil} i:nil="true"/>').value == {"body": None}
    assert not xml_bound(f'<Send {nil} i:nil="true"/>').readable  # a value type


@pytest.mark.parametrize("raw", [b"", b"<MessageComposeModel", b"<Other/>", b"<MessageComposeModel/>"])
def test_xml_without_the_documented_root_is_an_error(raw) -> None:
    assert not dotnet_binder.bind(SPEC, "MessageComposeModel", raw, "application/xml").readable


def test_form_bodies_are_not_judged() -> None:
    bound = dotnet_binder.bind(SPEC, "MessageComposeModel", b"to=rita", "application/x-www-form-urlencoded")
    assert not bound.judged and bound.readable


AGREEING_JSON = [
    {"importance": 7}, {"importance": "1"}, {"importance": "low"}, {"importance": 2.0}, {"send": "TRUE"},
    {"send": 0}, {"subject": 5}, {"sender_account_id": GUID.replace("-", "")}, {"Subject": "x", "unknown": [1]},
    {"to": None, "parent_id": None, "ts": None},
    {"importance": "Urgent"}, {"importance": True}, {"importance": 1.5}, {"send": "maybe"}, {"send": None},
    {"sender_account_id": "me"}, {"sender_account_id": None}, {"to": "rita"}, {"to": {"account_id": GUID}},
    {"to": [5]}, {"subject": {"a": 1}}, {"subject": [1]}, {"attachments": ["x"]}, {"ts": "not base64!"},
]
AGREEING_XML = [
    "<Importance>High</Importance><Send>1</Send>", "<Importance>0</Importance>", "<Importance>low</Importance>",
    "<Send>TRUE</Send>", f"<SenderAccountId>{GUID[:-1]}</SenderAccountId>", "<Body>b</Body><Subject>s</Subject>",
]


@pytest.mark.parametrize("value", AGREEING_JSON)
def test_the_server_binds_json_as_the_suite_judges_it(value) -> None:
    """The server's binder and the suite's profiles (msgconform.binders, jsonnet) agree."""
    raw = json.dumps(value).encode()
    request_body = specs.operation(SPEC, "sendMessage")[2]["requestBody"]
    assert json_bound(value).readable == (not binders.body_problems(SPEC, request_body, "application/json", raw))


@pytest.mark.parametrize("inner", AGREEING_XML)
def test_the_server_binds_xml_as_the_suite_judges_it(inner) -> None:
    raw = f'<MessageComposeModel xmlns="{MODELS}">{inner}</MessageComposeModel>'.encode()
    request_body = specs.operation(SPEC, "sendMessage")[2]["requestBody"]
    assert xml_bound(inner).readable == (not binders.body_problems(SPEC, request_body, "application/xml", raw))
