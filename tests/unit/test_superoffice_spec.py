"""specs/superoffice.yaml says what seed 004 and the Swagger facts of notes/vendors.md say,
and every open choice names the variant that takes the other reading (or why none can)."""

from __future__ import annotations

from typing import Any

import pytest

from msgconform import specs
from msgconform.servers import faults


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return specs.load("superoffice")


def _operation(spec):
    return spec["paths"]["/api/v1/Agents/EMail/SendEMails"]["post"]


def test_the_operation_its_media_types_and_headers(spec):
    operation = _operation(spec)
    assert operation["operationId"] == "sendEMails"
    assert list(operation["requestBody"]["content"]) == [
        "application/json", "text/json", "application/xml", "text/xml", "application/x-www-form-urlencoded",
        "application/json-patch+json", "application/merge-patch+json"]
    assert list(operation["responses"]["200"]["content"]) == [
        "application/json", "text/json", "application/xml", "text/xml", "application/json-patch+json",
        "application/merge-patch+json"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"$select", "Accept-Language", "SO-Language", "SO-Culture", "SO-TimeZone"} <= names
    assert [list(s) for s in spec["security"]] == [["basic"], ["soticket"], ["bearer"]]


def test_members_as_the_notes_list_them(spec):
    schemas = spec["components"]["schemas"]
    assert set(schemas["EMailConnectionInfo"]["properties"]) == {"ServerName", "UserName", "Password", "Folder", "UseSSL"}
    assert set(schemas["EMailAddress"]["properties"]) == {
        "ContactId", "ContactName", "PersonId", "PersonName", "AssociateId", "Address", "EmailId",
        "DuplicatePersonIds", "Name", "TableRight", "FieldProperties"}
    assert {"Description", "Filename", "Size", "Type", "Encoding", "Id", "Disposition", "IsSafeFileExtension",
            "Stream"} <= set(schemas["EMailAttachment"]["properties"])
    assert set(schemas["EMailEnvelope"]["properties"]) == {
        "ServerId", "MessageId", "Subject", "From", "To", "Sent", "Priority", "Flags", "Size", "EMailSOInfo"}
    assert len(schemas["EMailEntity"]["properties"]) == 28  # the seed's response table
    assert schemas["Priority"]["enum"] == ["NoPriority", "Highest", "High", "Normal", "Low", "Lowest"]
    assert schemas["CalReplyStatus"]["enum"] == ["Unknown", "Accepted", "Declined", "Tentative"]
    assert schemas["Flags"]["x-xml-flags"] is True
    assert schemas["Error"]["required"] == ["Error"]


def test_every_choice_names_a_variant_or_why_none(spec):
    variants = {e.name for e in faults.for_api("superoffice") if e.kind == "variant"}
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            if "x-msgconform-choice" in node:
                named = node.get("x-msgconform-choice-variants") or []
                why = str(node.get("x-msgconform-choice-why-no-variant", "")).strip()
                found.append(path)
                assert (named and set(named) <= variants) or why, f"{path}: {named!r}"
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")

    walk(spec, "")
    assert len(found) >= 10


def test_the_reference_typed_members_of_an_email_are_read_from_the_spec():
    """`$select` may null out exactly these (SO-SEL-001); value types cannot be null."""
    members = specs.nullable_properties(specs.load("superoffice"), "EMailEntity")
    assert {"To", "Subject", "From", "Attachments", "InReplyTo", "FieldProperties"} <= set(members)
    assert not {"Sent", "Size", "Priority", "Flags", "IsSent", "ServerId", "CalMethod"} & set(members)
