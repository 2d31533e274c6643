"""specs/itslearning.yaml: valid, faithful to seeds 000 and 003, and keeping the XML convention.

The spec is data that several layers read (Schemathesis, the XML codec, the checks), so
these tests pin what each of them relies on: OpenAPI validity, the documented statuses, the
send -> get link, the seed samples as examples, the .NET nullability rules, and
`x-xml-order` matching both the properties and the element order of the seed XML samples.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import schemathesis
from defusedxml import ElementTree

from msgconform import _resources, specs
from tests.spec_helpers import declared_types as _types
from tests.spec_helpers import help_page_sample as _seed_sample
from tests.spec_helpers import seed_text as _seed
from tests.spec_helpers import walk as _walk

SEND = "/restapi/personal/messages/send/v1"
GET = "/restapi/personal/messages/{messageId}/v1"
SEARCH = "/restapi/personal/messages/recipients/search/v1"
ENTITIES_NS = "http://schemas.datacontract.org/2004/07/Itslearning.RestApi.Entities"
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
JSON_TYPES = ("application/json", "text/json")
XML_TYPES = ("application/xml", "text/xml")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return specs.load("itslearning")


# --- validity ---------------------------------------------------------------------------


def test_component_schemas_are_valid_json_schema_2020_12(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert set(schemas) == {
        "MessageToSend",
        "Message",
        "PersonSimple",
        "Attachment",
        "ArrayOfPersonSimple",
        "ApiError",
    }
    meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    for name, schema in schemas.items():
        errors = [f"{error.json_path}: {error.message}" for error in meta.iter_errors(schema)]
        assert not errors, f"{name}: {errors}"


def test_schemathesis_loads_the_spec_and_finds_its_three_operations() -> None:
    schema = schemathesis.openapi.from_path(str(_resources.spec_path("itslearning")))
    schema.validate()  # against the OpenAPI 3.1 meta-schema that Schemathesis ships
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[operation.definition.raw["operationId"]] = (operation.method.upper(), operation.path)
    assert found == {"send": ("POST", SEND), "get": ("GET", GET), "search": ("GET", SEARCH)}


def test_the_loader_hands_out_copies_and_finds_operations() -> None:
    specs.load("itslearning")["paths"].clear()
    assert specs.load("itslearning")["paths"], "load() must not share its cached dict"
    fresh = specs.load("itslearning")
    content = specs.operation(fresh, "send")[2]["requestBody"]["content"]
    content["application/json"]["examples"]["seed"]["value"]["ToPersonIds"].append(3)
    assert content["text/json"]["examples"]["seed"]["value"]["ToPersonIds"] == [1, 2], "YAML aliases unshared"
    assert specs.operation(fresh, "send")[:2] == (SEND, "POST")
    with pytest.raises(LookupError, match="nope"):
        specs.operation(fresh, "nope")
    with pytest.raises(LookupError, match="itslearnin"):
        specs.load("itslearnin")


def test_bearer_auth_applies_to_every_operation(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["security"] == [{"bearer": []}]
    for operation_id in ("send", "get", "search"):
        operation = specs.operation(spec, operation_id)[2]
        assert "security" not in operation, f"{operation_id}: the global bearer scheme must not be overridden"


def test_server_is_a_site_template_and_paths_are_relative(spec: dict[str, Any]) -> None:
    (server,) = spec["servers"]
    assert "{site}" in server["url"] and "site" in server["variables"]
    assert set(spec["paths"]) == {SEND, GET, SEARCH}


# --- operations and statuses ------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation_id", "statuses"),
    [
        ("send", {"201", "400", "401", "403", "404", "415"}),
        ("get", {"200", "400", "401", "403", "404"}),
        ("search", {"200", "400", "401"}),
    ],
)
def test_every_operation_has_the_documented_statuses(
    spec: dict[str, Any], operation_id: str, statuses: set[str]
) -> None:
    _, _, operation = specs.operation(spec, operation_id)
    assert set(operation["responses"]) == statuses
    for status in statuses - {"201"}:
        response = operation["responses"][status]
        if "$ref" in response:
            response = specs.resolve(spec, response["$ref"])
        assert set(response["content"]) == set(JSON_TYPES + XML_TYPES), f"{operation_id} {status}"
        if status.startswith("4"):
            for media in response["content"].values():
                assert media["schema"] == {"$ref": "#/components/schemas/ApiError"}


def test_send_accepts_every_documented_request_format(spec: dict[str, Any]) -> None:
    body = specs.operation(spec, "send")[2]["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == {*JSON_TYPES, *XML_TYPES, "application/x-www-form-urlencoded"}
    for media in body["content"].values():
        assert media["schema"] == {"$ref": "#/components/schemas/MessageToSend"}
    form = body["content"]["application/x-www-form-urlencoded"]
    assert "examples" not in form and "No sample available" in form["x-msgconform-choice"]


def test_send_201_has_a_required_location_and_no_body(spec: dict[str, Any]) -> None:
    created = specs.operation(spec, "send")[2]["responses"]["201"]
    assert "content" not in created
    assert "HttpResponseMessage" in created["x-msgconform-choice"]
    location = created["headers"]["Location"]
    assert location["required"] is True and location["schema"]["type"] == "string"
    assert "relative" in location["description"] and "absolute" in location["description"].lower()


def test_get_takes_an_integer_message_id_and_answers_message(spec: dict[str, Any]) -> None:
    _, _, operation = specs.operation(spec, "get")
    (parameter,) = operation["parameters"]
    assert parameter == {
        **parameter,
        "name": "messageId",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    ok = operation["responses"]["200"]["content"]
    assert set(ok) == set(JSON_TYPES + XML_TYPES)
    assert all(media["schema"] == {"$ref": "#/components/schemas/Message"} for media in ok.values())
    not_found = specs.resolve(spec, operation["responses"]["404"]["$ref"])
    assert not_found["x-msgconform-body-optional"] is True


def test_search_text_has_no_invented_minimum(spec: dict[str, Any]) -> None:
    _, _, operation = specs.operation(spec, "search")
    (parameter,) = operation["parameters"]
    assert parameter["name"] == "searchText" and parameter["in"] == "query"
    assert parameter["schema"] == {"type": "string"}, (
        "the 3-character rule is a documented 400, not a schema constraint"
    )
    assert parameter["x-msgconform-generate"]["minLength"] == 3
    items = spec["components"]["schemas"]["ArrayOfPersonSimple"]
    assert items["type"] == "array" and items["xml"]["name"] == "ArrayOfPersonSimple"
    assert items["items"]["$ref"] == "#/components/schemas/PersonSimple"


# --- the send -> get link ---------------------------------------------------------------


def test_send_links_to_get_through_the_location_header(spec: dict[str, Any]) -> None:
    link = specs.operation(spec, "send")[2]["responses"]["201"]["links"]["GetSentMessage"]
    assert link["operationId"] == "get"
    expression = link["parameters"]["messageId"]
    prefix = "$response.header.Location#regex:"
    assert expression.startswith(prefix)
    pattern = re.compile(expression.removeprefix(prefix))
    for location in (
        "https://site.itslearning.com/restapi/personal/messages/4711/v1",
        "/restapi/personal/messages/4711/v1",
        "restapi/personal/messages/4711/v1",
    ):
        match = pattern.search(location)
        assert match and match.group(1) == "4711", location


def test_schemathesis_builds_a_state_machine_transition_from_the_link() -> None:
    schema = schemathesis.openapi.from_path(str(_resources.spec_path("itslearning")))
    machine = schema.as_state_machine()
    rules = [name for name in dir(machine) if "GetSentMessage" in name]
    assert len(rules) == 1 and rules[0].startswith("POST_") and "GET_" in rules[0], rules


# --- examples ---------------------------------------------------------------------------


def _media_examples(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any], Any]]:
    """(path, media type, example name, schema, value) of every example under `paths`."""
    for path, item in spec["paths"].items():
        for operation in item.values():
            bodies = [operation.get("requestBody", {})] + list(operation["responses"].values())
            for body in bodies:
                for media_type, media in body.get("content", {}).items():
                    for name, example in media.get("examples", {}).items():
                        yield path, media_type, name, media["schema"], example["value"]


def test_every_json_example_validates_against_its_schema(spec: dict[str, Any]) -> None:
    checked = 0
    for path, media_type, _, schema, value in _media_examples(spec):
        if media_type in JSON_TYPES:
            errors = [error.message for error in specs.validator(spec, schema).iter_errors(value)]
            assert not errors, f"{path} {media_type}: {errors}"
            checked += 1
    assert checked == 4  # send and get, each in application/json and text/json


def test_examples_are_the_seed_samples_and_nothing_else(spec: dict[str, Any]) -> None:
    seeds = {SEND: _seed("000_e9838e8fd156fcdc.txt"), GET: _seed("003_676dc405cd31de98.txt")}
    seen = set()
    for path, media_type, name, _, value in _media_examples(spec):
        # Only the seed samples: their ids are rewritten by the suite, no other ids may appear.
        assert name == "seed", f"{path} {media_type}: example {name!r}"
        if media_type in JSON_TYPES:
            assert value == json.loads(_seed_sample(seeds[path], "application/json, text/json")), path
        else:
            sample = _seed_sample(seeds[path], "application/xml, text/xml")
            assert " ".join(value.split()) == " ".join(sample.split()), f"{path} {media_type}"
        seen.add((path, media_type))
    assert seen == {(path, media) for path in seeds for media in JSON_TYPES + XML_TYPES}


# --- contract shape: no invented constraints, .NET nullability ----------------------------


def test_nothing_forbids_additional_properties(spec: dict[str, Any]) -> None:
    for where, node in _walk(spec):
        if isinstance(node, dict):
            assert node.get("additionalProperties", True) is not False, where


def test_no_invented_constraints_or_formats(spec: dict[str, Any]) -> None:
    invented = {"minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum", "pattern", "enum"}
    for where, node in _walk(spec["components"]["schemas"]):
        if isinstance(node, dict):
            assert not invented & set(node), f"{where}: {invented & set(node)}"
            assert node.get("format") in (None, "date-time"), f"{where}: format {node.get('format')}"


def test_request_and_message_schemas_require_nothing(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("MessageToSend", "Message", "PersonSimple", "Attachment"):
        assert "required" not in schemas[name], name
    assert "none is" in schemas["MessageToSend"]["description"]  # the reason is written down
    assert "No member is required" in schemas["Message"]["x-msgconform-choice"]
    assert schemas["ApiError"]["required"] == ["Message"]


# Value types that the documents make Nullable<T>; every other value type is not nullable.
NULLABLE_VALUE_TYPES = {
    "ReplyToMessageId",
    "ForwardToMessageId",
    "LastForwardedDateTime",
    "LastRepliedDateTime",
}


@pytest.mark.parametrize("name", ["MessageToSend", "Message", "PersonSimple", "Attachment"])
def test_nullability_follows_the_dotnet_rules(spec: dict[str, Any], name: str) -> None:
    for prop, schema in spec["components"]["schemas"][name]["properties"].items():
        if "$ref" in schema:  # a nested object: nullable through its component
            types = _types(specs.resolve(spec, schema["$ref"]))
            assert types == {"object", "null"}, f"{name}.{prop}"
            continue
        types = _types(schema)
        value_type = bool(types & {"integer", "boolean"}) or schema.get("format") == "date-time"
        nullable = "null" in types
        assert nullable == (not value_type or prop in NULLABLE_VALUE_TYPES), f"{name}.{prop}: {sorted(types)}"


def test_dates_are_date_times_and_ids_have_no_int32_format(spec: dict[str, Any]) -> None:
    message = spec["components"]["schemas"]["Message"]["properties"]
    for prop in ("DateReceived", "LastForwardedDateTime", "LastRepliedDateTime"):
        assert message[prop]["format"] == "date-time" and "string" in _types(message[prop])
    for where, node in _walk(spec):
        if isinstance(node, dict) and "integer" in _types(node):
            assert "format" not in node, where


def test_every_choice_is_written_out(spec: dict[str, Any]) -> None:
    choices = [
        (where, node["x-msgconform-choice"])
        for where, node in _walk(spec)
        if isinstance(node, dict) and "x-msgconform-choice" in node
    ]
    assert len(choices) >= 10
    for where, text in choices:
        assert isinstance(text, str) and len(text.split()) >= 5, where


# --- the XML convention ------------------------------------------------------------------


def test_every_object_schema_lists_its_xml_order(spec: dict[str, Any]) -> None:
    checked = 0
    for where, node in _walk(spec):
        if isinstance(node, dict) and "object" in _types(node) and "properties" in node:
            assert "xml" in node, f"{where}: object schemas carry an xml object"
        if isinstance(node, dict) and "xml" in node and "properties" in node:
            order = node["x-xml-order"]
            assert len(order) == len(set(order)) and set(order) == set(node["properties"]), where
            checked += 1
    assert checked == 5  # MessageToSend, Message, PersonSimple, Attachment, ApiError
    assert spec["x-xml"] == {"style": "datacontract"}


def _local(tag: str) -> tuple[str, str]:
    namespace, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, name


def _check_element(spec: dict[str, Any], element: Any, schema: dict[str, Any], namespace: str) -> int:
    """Compare one XML element of a seed sample with its schema; returns elements checked."""
    if "$ref" in schema:
        schema = specs.resolve(spec, schema["$ref"])
    children = list(element)
    if "array" in _types(schema):
        items = schema["items"]
        item_ns = items.get("xml", {}).get("namespace", namespace)
        for child in children:
            assert _local(child.tag) == (item_ns, items["xml"]["name"])
        return 1 + sum(_check_element(spec, child, items, item_ns) for child in children)
    if "properties" not in schema:
        return 1
    assert [_local(child.tag)[1] for child in children] == schema["x-xml-order"], element.tag
    checked = 1
    for child in children:
        name = _local(child.tag)[1]
        prop = schema["properties"][name]
        child_ns = prop.get("xml", {}).get("namespace", namespace)
        assert _local(child.tag)[0] == child_ns, f"{name}: namespace"
        checked += _check_element(spec, child, prop, child_ns)
    return checked


@pytest.mark.parametrize(("operation_id", "root_ns"), [("send", ENTITIES_NS), ("get", "")])
def test_seed_xml_samples_follow_the_xml_description(
    spec: dict[str, Any], operation_id: str, root_ns: str
) -> None:
    _, _, operation = specs.operation(spec, operation_id)
    media = (
        operation["requestBody"]["content"]
        if operation_id == "send"
        else operation["responses"]["200"]["content"]
    )
    schema = specs.resolve(spec, media["application/xml"]["schema"]["$ref"])
    root = ElementTree.fromstring(media["application/xml"]["examples"]["seed"]["value"])
    assert _local(root.tag) == (root_ns, schema["xml"]["name"])
    assert schema["xml"].get("namespace", "") == root_ns
    assert _check_element(spec, root, schema, root_ns) == len(list(root.iter()))  # every element checked


def test_integer_list_items_are_serialization_arrays_ints(spec: dict[str, Any]) -> None:
    for prop in ("ToPersonIds", "BccPersonIds"):
        schema = spec["components"]["schemas"]["MessageToSend"]["properties"][prop]
        assert schema["xml"] == {"wrapped": True}
        assert schema["items"]["xml"] == {"name": "int", "namespace": ARRAYS_NS}
    attachments = spec["components"]["schemas"]["Message"]["properties"]["Attachments"]
    assert attachments["items"]["xml"] == {"name": "Attachment", "namespace": ENTITIES_NS}


@pytest.mark.parametrize(
    ("name", "element", "namespace"),
    [
        ("MessageToSend", "MessageToSend", ENTITIES_NS),  # seed 000's root
        ("Attachment", "Attachment", ENTITIES_NS),  # seed 003's d2p1:Attachment
        ("Message", "Message", None),  # seed 003's root has no namespace
        ("PersonSimple", "PersonSimple", None),  # nor have From and To/PersonSimple
        ("ArrayOfPersonSimple", "ArrayOfPersonSimple", None),  # inferred from PersonSimple
        ("ApiError", "Error", None),  # ASP.NET's HttpError
    ],
)
def test_component_xml_names_and_namespaces(
    spec: dict[str, Any], name: str, element: str, namespace: str | None
) -> None:
    xml = spec["components"]["schemas"][name]["xml"]
    assert xml["name"] == element and xml.get("namespace") == namespace


@pytest.mark.parametrize(("operation_id", "component"), [("send", "MessageToSend"), ("get", "Message")])
def test_the_xml_codec_reads_and_writes_the_seed_samples(
    spec: dict[str, Any], operation_id: str, component: str
) -> None:
    """The XML description drives msgconform.xmlcodec: seed XML <-> seed JSON, both ways."""
    xmlcodec = pytest.importorskip("msgconform.xmlcodec")
    codec = xmlcodec.XmlCodec(spec)
    _, _, operation = specs.operation(spec, operation_id)
    media = (
        operation["requestBody"]["content"]
        if operation_id == "send"
        else operation["responses"]["200"]["content"]
    )
    xml = media["application/xml"]["examples"]["seed"]["value"]
    sample = media["application/json"]["examples"]["seed"]["value"]
    assert codec.problems(xml, component) == []
    assert codec.loads(xml, component) == sample
    assert xmlcodec.equivalent(codec.dumps(sample, component), xml)
