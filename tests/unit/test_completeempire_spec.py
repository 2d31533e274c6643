"""specs/completeempire.yaml: valid, faithful to seed 001, and keeping the DataContract layout.

The spec is data that several layers read (Schemathesis, the XML codec, the binder profile,
the checks, the reference server), so these tests pin what each relies on: OpenAPI
validity, the one operation and its five request and four response formats, every member
of the seed's table with its type, the JSON example being the seed's sample, the XML sample
read by the codec and written again giving the same element sequence and namespaces,
`importance` as a number in JSON and a name in XML, `ts` as one base64 value, and a reason
recorded for every open choice.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import schemathesis
from defusedxml import ElementTree

from msgconform import _resources, specs
from msgconform.xmlcodec import XmlCodec
from tests.spec_helpers import declared_types, help_page_sample, seed_text, walk

PATH = "/api/messages/sendmessage"
SEED = "001_6cd3d86dc76005f7.txt"
MODELS = "http://schemas.datacontract.org/2004/07/CompleteEmpireApp.Api.Models"
BASE = MODELS + ".Base"
ARRAYS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
REQUEST_FORMATS = ["application/json", "text/json", "application/xml", "text/xml", "application/x-www-form-urlencoded"]
RESPONSE_FORMATS = ["application/json", "text/json", "application/xml", "text/xml"]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return specs.load("completeempire")


@pytest.fixture(scope="module")
def operation(spec: dict[str, Any]) -> dict[str, Any]:
    return specs.operation(spec, "sendMessage")[2]


def _xml_text(operation: dict[str, Any]) -> str:
    return operation["requestBody"]["content"]["application/xml"]["x-msgconform-seed-text"]


def _sequence(document: str | bytes) -> list[tuple[str, int]]:
    """Every element of a document as (namespaced tag, depth), in document order."""
    out: list[tuple[str, int]] = []

    def visit(element: Any, depth: int) -> None:
        out.append((element.tag, depth))
        for child in element:
            visit(child, depth + 1)

    visit(ElementTree.fromstring(document), 0)
    return out


def test_component_schemas_are_valid_json_schema_2020_12(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert set(schemas) == {"MessageComposeModel", "MessageRecipientModel", "ApiError"}
    meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    for name, schema in schemas.items():
        errors = [f"{error.json_path}: {error.message}" for error in meta.iter_errors(schema)]
        assert not errors, f"{name}: {errors}"


def test_schemathesis_loads_the_one_operation() -> None:
    schema = schemathesis.openapi.from_path(str(_resources.spec_path("completeempire")))
    schema.validate()
    found = [(r.ok().method.upper(), r.ok().path) for r in schema.get_all_operations()]
    assert found == [("POST", PATH)]
    assert "POST api/messages/sendmessage" in seed_text(SEED)


def test_the_listed_request_and_response_formats(operation: dict[str, Any]) -> None:
    seed = seed_text(SEED)
    assert list(operation["requestBody"]["content"]) == REQUEST_FORMATS
    assert "Response Formats\napplication/json, text/json, application/xml, text/xml" in seed
    success = operation["responses"]["2XX"]
    assert list(success["content"]) == RESPONSE_FORMATS
    assert all(media["schema"] == {} for media in success["content"].values()), "the answer is undocumented"
    assert set(operation["responses"]) == {"2XX", "4XX"}


def test_every_member_of_the_seed_table_with_its_type(spec: dict[str, Any]) -> None:
    seed = seed_text(SEED)
    table = re.findall(r"^\| (\w+) \| ([^|]+) \|$", seed.split("Request Formats")[0], re.M)
    model = spec["components"]["schemas"]["MessageComposeModel"]["properties"]
    assert [name for name, _ in table] == list(model)
    expected = {
        "string": ({"string"}, None),
        "globally unique identifier": ({"string"}, "uuid"),
        "Collection of MessageRecipientModel": ({"array"}, None),
        "Collection of globally unique identifier": ({"array"}, None),
        "MessageImportance": ({"integer"}, None),
        "date": ({"string"}, "date-time"),
        "boolean": ({"boolean"}, None),
        "Collection of byte": ({"string"}, "byte"),  # a byte[] is one base64 value
    }
    for name, documented in table:
        types, fmt = expected[documented.strip()]
        schema = model[name]
        assert declared_types(schema) - {"null"} == types, name
        assert schema.get("format") == fmt, name
    assert model["attachments"]["items"]["format"] == "uuid"


def test_the_json_example_is_the_seed_sample(operation: dict[str, Any]) -> None:
    example = operation["requestBody"]["content"]["application/json"]["examples"]["seed"]["value"]
    sample = json.loads(help_page_sample(seed_text(SEED), "application/json, text/json"))
    assert example == sample
    assert list(example) == list(sample)


def test_the_xml_sample_is_kept_verbatim_and_read_as_the_json_twin(spec: dict[str, Any],
                                                                   operation: dict[str, Any]) -> None:
    text = _xml_text(operation)
    seed = seed_text(SEED)
    assert text == help_page_sample(seed, "application/xml, text/xml")
    codec = XmlCodec(spec)
    assert codec.problems(text, "MessageComposeModel") == []
    example = operation["requestBody"]["content"]["application/json"]["examples"]["seed"]["value"]
    assert codec.loads(text, "MessageComposeModel") == example


def test_the_xml_sample_read_and_written_again_has_the_same_elements_and_namespaces(spec: dict[str, Any],
                                                                                     operation: dict[str, Any]) -> None:
    text = _xml_text(operation)
    codec = XmlCodec(spec)
    written = codec.dumps(codec.loads(text, "MessageComposeModel"), "MessageComposeModel")
    assert _sequence(written) == _sequence(text)
    sequence = [tag for tag, depth in _sequence(text) if depth == 1]
    assert sequence[:3] == [f"{{{BASE}}}Id", f"{{{BASE}}}SubscriptionId", f"{{{BASE}}}Ts"]
    assert sequence[3:5] == [f"{{{MODELS}}}CanDelete", f"{{{MODELS}}}Subject"]
    own = [tag.split("}")[1] for tag in sequence[5:]]
    assert own == sorted(own) and own[0] == "Attachments" and own[-1] == "To"
    assert f"{{{ARRAYS}}}guid" in {tag for tag, _ in _sequence(written)}
    assert f"{{{MODELS}}}MessageRecipientModel" in {tag for tag, _ in _sequence(written)}


def test_x_xml_order_lists_every_member(spec: dict[str, Any]) -> None:
    for name in ("MessageComposeModel", "MessageRecipientModel"):
        schema = spec["components"]["schemas"][name]
        assert sorted(schema["x-xml-order"]) == sorted(schema["properties"]), name


def test_importance_is_a_number_in_json_and_a_name_in_xml(spec: dict[str, Any]) -> None:
    importance = spec["components"]["schemas"]["MessageComposeModel"]["properties"]["importance"]
    assert importance["type"] == "integer"
    assert importance["x-xml-enum-names"]["Low"] == 0  # established by the two samples
    assert "guess" in importance["x-msgconform-choice"]  # the other members are not
    codec = XmlCodec(spec)
    assert b"<Importance>Low</Importance>" in codec.dumps({"importance": 0}, "MessageComposeModel")


def test_ts_is_one_base64_value_in_both_formats(spec: dict[str, Any]) -> None:
    ts = spec["components"]["schemas"]["MessageComposeModel"]["properties"]["ts"]
    assert "array" not in declared_types(ts) and ts["format"] == "byte"
    codec = XmlCodec(spec)
    assert b"QEA=</Ts>" in codec.dumps({"ts": "QEA="}, "MessageComposeModel")


def test_every_open_choice_has_a_reason(spec: dict[str, Any]) -> None:
    choices = [(where, node["x-msgconform-choice"]) for where, node in walk(spec)
               if isinstance(node, dict) and "x-msgconform-choice" in node]
    assert len(choices) >= 8
    for where, reason in choices:
        assert isinstance(reason, str) and len(reason.split()) >= 8, where
