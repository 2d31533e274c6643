"""Negative means negative for the vendor's binder (msgconform.binders, binders.yaml).

Each rule of ARCHITECTURE.md "Decisions" (negative requests), tried on the real specs and
on a small DataContract spec shaped like a third .NET API (guids, enums, base64)."""

from __future__ import annotations

import pytest

from msgconform import binders, catalogue, specs

ITS = specs.load("itslearning")
HQ = specs.load("highq")
SEND = ITS["paths"]["/restapi/personal/messages/send/v1"]["post"]
GET = ITS["paths"]["/restapi/personal/messages/{messageId}/v1"]["get"]
CONVERSATION = HQ["paths"]["/4/conversations/"]["post"]
ENTITIES = 'xmlns="http://schemas.datacontract.org/2004/07/Itslearning.RestApi.Entities"'
ARRAYS = 'xmlns:a="http://schemas.microsoft.com/2003/10/Serialization/Arrays"'
XSI = 'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'

# A third DataContract API only names the profiles: no code.
DOTNET = {
    "openapi": "3.1.0",
    "x-xml": {"style": "datacontract"},
    "x-msgconform-binder": {"json": "jsonnet", "xml": "datacontract"},
    "paths": {"/send": {"post": {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Mail"}},
        "application/xml": {"schema": {"$ref": "#/components/schemas/Mail"}}}}}}},
    "components": {"schemas": {"Mail": {
        "type": "object", "xml": {"name": "Mail", "namespace": "urn:m"},
        "properties": {
            "account_id": {"type": "string", "format": "uuid"},
            "importance": {"type": "integer", "x-xml-enum-names": {"Low": 0}},
            "ts": {"type": ["string", "null"], "format": "byte"},
            "send": {"type": "boolean"},
        }}}},
}
MAIL = DOTNET["paths"]["/send"]["post"]


def problems(spec, operation, media_type, body, path=None, query=()):
    return binders.request_problems(spec, operation, path or {}, list(query), media_type, body.encode())


@pytest.mark.parametrize("body", [
    '{"ToPersonIds": ["1002"], "ReplyToMessageId": "7"}',  # "5" for an integer
    '{"ToPersonIds": [1002.0]}',  # an integral float
    '{"Subject": 5, "Text": true}',  # scalars for strings
    '{"ReplyToMessageId": "", "BccPersonIds": ""}',  # "" is null for nullable types
    '{"toPERSONids": [1002], "Unknown": {"x": 1}}',  # names fold case; unknown members ignored
    '{"ToPersonIds": null, "Subject": null}',  # null for reference types
])
def test_jsonnet_reads_these_so_they_are_not_negative(body):
    assert problems(ITS, SEND, "application/json", body) == []


@pytest.mark.parametrize(("body", "where"), [
    ('{"ToPersonIds": "abc"}', "/ToPersonIds"),
    ('{"ToPersonIds": [true]}', "/ToPersonIds[0]"),
    ('{"ReplyToMessageId": "abc"}', "/ReplyToMessageId"),
    ('{"ReplyToMessageId": 1.5}', "/ReplyToMessageId"),
    ('{"Subject": {"a": 1}}', "/Subject"),
    ('[1, 2]', "/"),
    ('{"ToPersonIds": [1', "not well-formed JSON"),
])
def test_jsonnet_cannot_read_these(body, where):
    found = problems(ITS, SEND, "application/json", body)
    assert found and where in found[0]


@pytest.mark.parametrize("inner", [
    "<BccPersonIds>AAA</BccPersonIds>",  # text inside a collection element (issue 12, situation 1)
    "stray text<Unknown>abc</Unknown>",  # text between elements, an unknown element
    "<Text>x</Text><ReplyToMessageId>abc</ReplyToMessageId>",  # out of order: DataContract skips it
    "<BccPersonIds i:nil='true'/>",  # a nil collection
    f"<ToPersonIds {ARRAYS}><a:int>1</a:int></ToPersonIds><ToPersonIds>abc</ToPersonIds>",  # repeated
    f"<ToPersonIds {ARRAYS}><a:string>abc</a:string><a:int> 7 </a:int></ToPersonIds>",  # other items skipped
])
def test_datacontract_skips_structure(inner):
    body = f"<MessageToSend {XSI} {ENTITIES}>{inner}</MessageToSend>"
    assert problems(ITS, SEND, "application/xml", body) == []


@pytest.mark.parametrize(("inner", "where"), [
    ("<ReplyToMessageId>abc</ReplyToMessageId>", "ReplyToMessageId"),
    ("<ReplyToMessageId>5.0</ReplyToMessageId>", "ReplyToMessageId"),  # XmlConvert reads no fraction
    (f"<ToPersonIds {ARRAYS}><a:int>x</a:int></ToPersonIds>", "ToPersonIds/int[1]"),
    ("<Subject><b>bold</b></Subject>", "Subject"),
])
def test_datacontract_cannot_convert_these_leaves(inner, where):
    body = f"<MessageToSend {XSI} {ENTITIES}>{inner}</MessageToSend>"
    found = problems(ITS, SEND, "application/xml", body)
    assert found and where in found[0]


def test_a_wrong_root_or_malformed_xml_is_negative():
    assert problems(ITS, SEND, "application/xml", "<Message/>")
    assert problems(ITS, SEND, "application/xml", f"<MessageToSend {ENTITIES}>")
    dtd = f'<!DOCTYPE x [<!ENTITY e "x">]><MessageToSend {ENTITIES}/>'
    assert problems(ITS, SEND, "application/xml", dtd)


def test_forms_are_judged_by_what_the_form_encoding_says():
    assert problems(ITS, SEND, "application/x-www-form-urlencoded", "ToPersonIds=1002&ToPersonIds[]=7&Subject=5") == []
    assert problems(ITS, SEND, "application/x-www-form-urlencoded", "ReplyToMessageId=&Other=x") == []
    assert problems(ITS, SEND, "application/x-www-form-urlencoded", "ToPersonIds=abc")


def test_parameters_are_read_as_text():
    assert problems(ITS, GET, None, "", path={"messageId": " 42 "}) == []
    assert problems(ITS, GET, None, "", path={"messageId": "abc"})


@pytest.mark.parametrize("body", [
    '{"recipients": {"users": {"user": {"userid": "3002"}}}}',  # a numeric string, a single object
    '{"recipients": {"users": {"user": [{"userid": 3002.9}]}}}',  # Jackson truncates
    '{"messages": {"message": [{"html": 5, "attachments": null}]}}',  # scalar for String, null member
    '{"messages": {"message": [{"html": "x", "attachments": {"attachment": [{"id": 7}, {"id": "x"}]}}]}}',
])
def test_java_json_reads_these(body):
    assert problems(HQ, CONVERSATION, "application/json", body) == []


@pytest.mark.parametrize("body", [
    "<conversation><messages><message><html>x</html><attachments i:nil='true' {xsi}/>"
    "<attachments i:nil='true' {xsi}/></message></messages></conversation>",  # situation 2
    "<conversation><messages><message i:nil='true' {xsi}/><message i:nil='true' {xsi}/></messages></conversation>",
    "<conversation><messages>text<message><attachments>AAA</attachments><html>x</html></message></messages>"
    "<recipients><users><user><userid> 3002 </userid></user></users></recipients></conversation>",  # any order
])
def test_jaxb_reads_these(body):
    assert problems(HQ, CONVERSATION, "application/xml", body.format(xsi=XSI)) == []


def test_java_still_refuses_unconvertible_leaves():
    assert problems(HQ, CONVERSATION, "application/json", '{"recipients": {"users": {"user": [{"userid": "abc"}]}}}')
    assert problems(HQ, CONVERSATION, "application/json", '{"messages": {"message": [{"html": {}}]}}')
    assert problems(HQ, CONVERSATION, "application/xml",
                    "<conversation><recipients><users><user><userid>abc</userid></user></users></recipients>"
                    "</conversation>")


def test_a_third_datacontract_api_gets_the_same_rules_from_data():
    assert problems(DOTNET, MAIL, "application/json",
                    '{"account_id": "73067954-43ED-4f1e-b2ba-c18e22e9e1fc", "importance": 7, "send": "true"}') == []
    assert problems(DOTNET, MAIL, "application/json", '{"account_id": "73067954434f1eb2bac18e22e9e1fc00"}') == []
    assert problems(DOTNET, MAIL, "application/json", '{"importance": "low", "ts": ""}') == []
    assert problems(DOTNET, MAIL, "application/json", '{"account_id": "nope"}')
    assert problems(DOTNET, MAIL, "application/json", '{"ts": "not base64!"}')
    assert problems(DOTNET, MAIL, "application/json", '{"send": null}')  # a value type
    assert problems(DOTNET, MAIL, "application/xml", '<Mail xmlns="urn:m"><importance>Low</importance></Mail>') == []
    assert problems(DOTNET, MAIL, "application/xml", '<Mail xmlns="urn:m"><importance>Unknown</importance></Mail>')



def test_an_enum_is_any_integer_in_json_and_a_member_name_only_in_datacontract_xml():
    """Rules that came with CompleteEmpire (issue 13): Json.NET casts any integer (or a
    numeric string) to an enum, documented member or not; XmlConvert reads an enum by its
    member name only, so a number in XML is not read."""
    enum = {"type": "integer", "enum": [0], "x-xml-enum-names": {"Low": 0}, "xml": {"name": "importance"}}
    spec = {**DOTNET, "components": {"schemas": {"Mail": {**DOTNET["components"]["schemas"]["Mail"], "properties": {
        **DOTNET["components"]["schemas"]["Mail"]["properties"], "importance": enum}}}}}
    assert problems(spec, MAIL, "application/json", '{"importance": 9}') == []
    assert problems(spec, MAIL, "application/json", '{"importance": "9"}') == []
    assert problems(spec, MAIL, "application/xml", '<Mail xmlns="urn:m"><importance>0</importance></Mail>')
    assert problems(spec, MAIL, "application/xml", '<Mail xmlns="urn:m"><importance>Low</importance></Mail>') == []


def test_a_guid_is_a_value_type_on_dotnet_so_null_is_not_read():
    """A string on the wire, a System.Guid in the model: Json.NET cannot bind null to it."""
    assert problems(DOTNET, MAIL, "application/json", '{"account_id": null}')
    assert problems(DOTNET, MAIL, "application/json", '{"ts": null}') == []  # byte[]: a reference type


@pytest.mark.parametrize("api", catalogue.available_apis())
def test_every_spec_names_a_binder_for_each_request_body_format(api):
    """Without one a request would be judged by JSON Schema alone, which blames every
    conversion the vendor's platform makes (issue 12)."""
    spec = specs.load(api)
    named = binders.profiles_for(spec)
    formats = {"application/json": "json", "text/json": "json", "application/xml": "xml", "text/xml": "xml",
               "application/x-www-form-urlencoded": "form"}
    needed = {formats[media] for item in spec["paths"].values() for operation in item.values()
              if isinstance(operation, dict)
              for media in ((operation.get("requestBody") or {}).get("content") or {}) if media in formats}
    assert needed <= set(named), f"{api}: x-msgconform-binder names no profile for {sorted(needed - set(named))}"
    for kind, profile in named.items():
        assert profile.format == kind
