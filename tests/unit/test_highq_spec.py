"""specs/highq.yaml: valid, faithful to seed 002, and keeping the XML convention.

The spec is data that several layers read (Schemathesis, the XML codec, the checks, the
reference server), so these tests pin what each of them relies on: OpenAPI validity, the
documented statuses (both success codes), the seed samples as examples (the invalid JSON
one kept verbatim next to its corrected form), the XML samples loading to their JSON twins
through the codec, `x-xml-order` on every object schema, the single-object form of a
one-element list, and the error object that differs per media type.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import schemathesis

from msgconform import _resources, specs
from msgconform.xmlcodec import XmlCodec, equivalent
from tests.spec_helpers import declared_types as _types, seed_text, walk as _walk

PATH = "/4/conversations/"
MEDIA = ("application/json", "application/xml")
SEED = "002_c06e812833d1d261.txt"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return specs.load("highq")


@pytest.fixture(scope="module")
def operation(spec: dict[str, Any]) -> dict[str, Any]:
    return specs.operation(spec, "createConversation")[2]


def _seed() -> str:
    return seed_text(SEED)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _between(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin : text.index(end, begin) + len(end)]


# --- validity ---------------------------------------------------------------------------


def test_component_schemas_are_valid_json_schema_2020_12(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert set(schemas) == {
        "Conversation", "Recipients", "Users", "User", "Messages", "Message", "Attachments", "Attachment",
        "ConversationCreated", "CreatedMessages", "CreatedMessage", "Error", "ErrorDetail",
    }
    meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    for name, schema in schemas.items():
        errors = [f"{error.json_path}: {error.message}" for error in meta.iter_errors(schema)]
        assert not errors, f"{name}: {errors}"


def test_schemathesis_loads_the_spec_and_finds_the_one_operation() -> None:
    schema = schemathesis.openapi.from_path(str(_resources.spec_path("highq")))
    schema.validate()
    found = [(op.ok().method.upper(), op.ok().path, op.ok().definition.raw["operationId"])
             for op in schema.get_all_operations()]
    assert found == [("POST", PATH, "createConversation")]


def test_base_url_is_instance_api_and_the_trailing_slash_is_kept(spec: dict[str, Any]) -> None:
    (server,) = spec["servers"]
    assert server["url"].endswith("/{instance}/api")
    assert list(spec["paths"]) == [PATH] and PATH.endswith("/")
    assert "POST /api/4/conversations/" in _seed()


def test_bearer_auth_applies_to_the_operation(spec: dict[str, Any], operation: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["security"] == [{"bearer": []}] and "security" not in operation


# --- statuses -----------------------------------------------------------------------------


def test_the_documented_statuses_and_both_success_codes(spec: dict[str, Any], operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    assert set(responses) == {"200", "201", "400", "401", "403", "415", "500"}
    assert responses["200"]["content"] == responses["201"]["content"]
    for status in ("200", "201"):
        assert set(responses[status]["content"]) == set(MEDIA)
        for media in responses[status]["content"].values():
            assert media["schema"] == {"$ref": "#/components/schemas/ConversationCreated"}
    choice = operation["x-msgconform-choice"]
    assert "200" in choice and "201" in choice and "never judged" in choice
    for status in ("400", "401", "403", "415", "500"):
        content = specs.resolve(spec, responses[status]["$ref"])["content"]
        assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        assert content["application/xml"]["schema"] == {"$ref": "#/components/schemas/ErrorDetail"}
    labels = {status: specs.resolve(spec, responses[status]["$ref"])["description"] for status in ("400", "403")}
    assert labels == {"400": "Problem with parameters", "403": "Validation failed | Forbidden"}


def test_the_request_is_json_or_xml_and_required(operation: dict[str, Any]) -> None:
    body = operation["requestBody"]
    assert body["required"] is True and body["description"] == "A Conversation Common Object"
    assert set(body["content"]) == set(MEDIA)
    for media in body["content"].values():
        assert media["schema"] == {"$ref": "#/components/schemas/Conversation"}


# --- the seed samples as examples ---------------------------------------------------------


def test_the_invalid_json_sample_is_kept_verbatim_with_its_corrected_form(operation: dict[str, Any]) -> None:
    example = operation["requestBody"]["content"]["application/json"]["examples"]["seed"]
    after = _seed().split("JSON form", 1)[1]
    seed_text = after[after.index("{") : after.index("Response body sample")].strip()
    assert _collapse(example["x-msgconform-seed-text"]) == _collapse(seed_text)
    with pytest.raises(json.JSONDecodeError):
        json.loads(example["x-msgconform-seed-text"])  # the seed's sample is not JSON
    assert example["x-msgconform-invalid-json"] is True and "not valid JSON" in example["description"]
    placeholders = iter(["1", "2"])
    corrected = re.sub(r"\{user id\}", lambda _: next(placeholders), example["x-msgconform-seed-text"])
    assert json.loads(corrected) == example["value"]  # only the bare placeholders changed


def test_the_xml_samples_are_the_seed_s_text(operation: dict[str, Any]) -> None:
    request = operation["requestBody"]["content"]["application/xml"]["examples"]["seed"]["value"]
    assert _collapse(request) == _collapse(_between(_seed(), "<conversation>", "</conversation>"))
    response = operation["responses"]["200"]["content"]["application/xml"]["examples"]["seed"]["value"]
    assert _collapse(response) == _collapse(_between(_seed(), "<?xml", "</conversation>"))
    assert not re.search(r">\s*\d+\s*<", request), "a request example must carry no id that could name a user"


def test_every_json_example_validates(spec: dict[str, Any], operation: dict[str, Any]) -> None:
    request = operation["requestBody"]["content"]["application/json"]
    twin = operation["responses"]["201"]["content"]["application/json"]
    for media in (request, twin):
        (example,) = media["examples"].values()
        errors = [e.message for e in specs.validator(spec, media["schema"]).iter_errors(example["value"])]
        assert not errors
    assert twin["examples"]["twin"]["value"] == {"conversationid": 43, "messages": {"message": [{"messageid": 1160}]}}


def test_xml_samples_load_to_their_json_twins_and_dump_back(spec: dict[str, Any], operation: dict[str, Any]) -> None:
    codec = XmlCodec(spec)
    content = operation["requestBody"]["content"]
    xml = content["application/xml"]["examples"]["seed"]["value"]
    twin = content["application/json"]["examples"]["seed"]["value"]
    filled = xml.replace("{User id}", "1", 1).replace("{User id}", "2", 1)
    filled = filled.replace("<![CDATA[]]> ", "<![CDATA[{message body}]]>").replace("<id></id>", "<id>{attachment id}</id>")
    assert codec.problems(filled, "Conversation") == []
    assert codec.loads(filled, "Conversation") == twin
    assert equivalent(codec.dumps(twin, "Conversation"), filled)
    assert "<html><![CDATA[{message body}]]></html>" in codec.dumps(twin, "Conversation").decode()

    created = operation["responses"]["201"]["content"]
    response = created["application/xml"]["examples"]["seed"]["value"]
    twin = created["application/json"]["examples"]["twin"]["value"]
    assert codec.problems(response, "ConversationCreated") == []
    assert codec.loads(response, "ConversationCreated") == twin
    assert equivalent(codec.dumps(twin, "ConversationCreated"), response)


# --- the XML convention -------------------------------------------------------------------


def test_every_object_schema_lists_its_xml_order(spec: dict[str, Any]) -> None:
    assert spec["x-xml"] == {"style": "plain"}
    checked = 0
    for where, node in _walk(spec["components"]["schemas"]):
        if isinstance(node, dict) and "properties" in node:
            order = node["x-xml-order"]
            assert len(order) == len(set(order)) and set(order) == set(node["properties"]), where
            checked += 1
    assert checked == 13


def test_only_the_two_roots_are_named_and_nothing_has_a_namespace(spec: dict[str, Any]) -> None:
    named = {name: schema["xml"]["name"] for name, schema in spec["components"]["schemas"].items() if "xml" in schema}
    assert named == {"Conversation": "conversation", "ConversationCreated": "conversation", "ErrorDetail": "error"}
    assert not [where for where, node in _walk(spec) if isinstance(node, dict) and "namespace" in node]
    assert spec["components"]["schemas"]["Message"]["properties"]["html"]["x-xml-cdata"] is True


@pytest.mark.parametrize(
    ("wrapper", "key", "item"),
    [("Users", "user", {"userid": 3002}), ("Messages", "message", {"html": "<p>x</p>"}),
     ("Attachments", "attachment", {"id": "7"}), ("CreatedMessages", "message", {"messageid": 2**40})],
)
def test_a_one_element_list_may_be_the_object_itself(spec: dict[str, Any], wrapper: str, key: str, item: dict) -> None:
    validator = specs.validator(spec, f"#/components/schemas/{wrapper}")
    assert validator.is_valid({key: [item, item]}) and validator.is_valid({key: item})
    assert not validator.is_valid({key: "text"}) and not validator.is_valid({key: [1]})
    codec = XmlCodec(spec)
    schema = {"xml": {"name": "w"}, **spec["components"]["schemas"][wrapper]}
    assert codec.loads(codec.dumps({key: item}, schema), schema) == {key: [item]}  # XML reads a list back


def test_ids_are_integers_without_a_format_and_nothing_is_invented(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name, prop in (("User", "userid"), ("ConversationCreated", "conversationid"), ("CreatedMessage", "messageid")):
        assert schemas[name]["properties"][prop] == {**schemas[name]["properties"][prop], "type": "integer"}
        assert "format" not in schemas[name]["properties"][prop]
    invented = {"minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum", "pattern", "enum", "format"}
    for where, node in _walk(schemas):
        if isinstance(node, dict):
            assert not invented & set(node), where
            assert node.get("additionalProperties", True) is not False, where
    required = {name: schema["required"] for name, schema in schemas.items() if "required" in schema}
    assert required == {"Error": ["error"], "ErrorDetail": ["summary"]}


def test_the_error_object_differs_per_media_type(spec: dict[str, Any]) -> None:
    wrapper = specs.validator(spec, "#/components/schemas/Error")
    assert wrapper.is_valid({"error": {"summary": "Not authorised", "ref": "ab12", "link": "https://x"}})
    assert wrapper.is_valid({"error": {"summary": "Problem with parameters", "ref": 7340001}})  # a numeric ref
    assert not wrapper.is_valid({"summary": "unwrapped"}) and not wrapper.is_valid({"error": {"ref": "x"}})
    codec = XmlCodec(spec)
    xml = "<error><summary>Not authorised</summary><ref>12</ref><link>https://x</link></error>"
    value = codec.loads(xml, "ErrorDetail")
    assert value == {"summary": "Not authorised", "ref": "12", "link": "https://x"}
    assert specs.validator(spec, "#/components/schemas/ErrorDetail").is_valid(value)


def test_every_open_choice_is_written_out_with_its_reason(spec: dict[str, Any]) -> None:
    choices = " ".join(node["x-msgconform-choice"] for _, node in _walk(spec)
                       if isinstance(node, dict) and "x-msgconform-choice" in node)
    for words in ("200 status code", "201 Comments returned successfully",  # the contradiction
                  "never defines the Conversation Common Object",
                  "never shows", "one-element",
                  "may exceed 32 bits"):
        assert words in choices, words
    example = specs.operation(spec, "createConversation")[2]["requestBody"]["content"]["application/json"]
    assert "not valid JSON" in example["examples"]["seed"]["description"]
