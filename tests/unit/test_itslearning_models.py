"""The pydantic models of msgconform.models.itslearning agree with specs/itslearning.yaml.

Each model's JSON schema and the spec's component are reduced to the same comparable form —
per property: its JSON types (date-time counted as a type of its own), whether null is
allowed, and the same for list items and nested objects by name — and compared both ways,
together with the required set. A component's own nullability (PersonSimple may be null
wherever it is used) shows in pydantic at the use sites, so it is compared there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pydantic
import pytest

from msgconform import specs
from msgconform.models import itslearning as models

MODELS: dict[str, type[pydantic.BaseModel]] = {
    "MessageToSend": models.MessageToSend,
    "Message": models.Message,
    "PersonSimple": models.PersonSimple,
    "Attachment": models.Attachment,
    "ApiError": models.ApiError,
}


class Shape(NamedTuple):
    kinds: frozenset[str]  # "integer", "string", "date-time", "array", "object:PersonSimple", ...
    nullable: bool
    items: Shape | None


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def shape(schema: dict[str, Any], resolve: Callable[[str], dict[str, Any]]) -> Shape:
    """The comparable form of a property schema, spec-style (type lists) or pydantic-style (anyOf)."""
    kinds: set[str] = set()
    nullable = False
    items = None
    for branch in schema.get("anyOf", [schema]):
        if "$ref" in branch:
            kinds.add("object:" + branch["$ref"].rsplit("/", 1)[-1])
            nullable |= "null" in _types(resolve(branch["$ref"]))
            continue
        types = _types(branch)
        nullable |= "null" in types
        for kind in types - {"null"}:
            if kind == "string" and branch.get("format") == "date-time":
                kind = "date-time"
            if kind == "array":
                items = shape(branch["items"], resolve)
            kinds.add(kind)
    return Shape(frozenset(kinds), nullable, items)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return specs.load("itslearning")


def _spec_side(spec: dict[str, Any], name: str) -> tuple[dict[str, Shape], set[str]]:
    component = spec["components"]["schemas"][name]
    props = {
        prop: shape(schema, lambda ref: specs.resolve(spec, ref))
        for prop, schema in component["properties"].items()
    }
    return props, set(component.get("required", []))


def _model_side(model: type[pydantic.BaseModel]) -> tuple[dict[str, Shape], set[str]]:
    schema = model.model_json_schema(ref_template="#/$defs/{model}")
    defs = schema.get("$defs", {})

    def resolve(ref: str) -> dict[str, Any]:
        return defs[ref.rsplit("/", 1)[-1]]

    props = {prop: shape(sub, resolve) for prop, sub in schema["properties"].items()}
    return props, set(schema.get("required", []))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_and_component_agree(spec: dict[str, Any], name: str) -> None:
    spec_props, spec_required = _spec_side(spec, name)
    model_props, model_required = _model_side(MODELS[name])
    assert set(model_props) == set(spec_props), f"{name}: property names"
    for prop in spec_props:
        assert model_props[prop] == spec_props[prop], (
            f"{name}.{prop}: model {model_props[prop]} != spec {spec_props[prop]}"
        )
    assert model_required == spec_required, f"{name}: required"


def test_the_comparison_sees_differences(spec: dict[str, Any]) -> None:
    """Guard against a comparison that always agrees: a changed model must not pass."""

    class Broken(models.Message):
        MessageId: int | None = None  # nullable, unlike the spec
        IsRead: str = "x"  # wrong type

    props, _ = _model_side(Broken)
    spec_props, _ = _spec_side(spec, "Message")
    assert props["MessageId"] != spec_props["MessageId"] and props["IsRead"] != spec_props["IsRead"]
    assert spec_props["To"] == Shape(
        frozenset({"array"}), True, Shape(frozenset({"object:PersonSimple"}), True, None)
    )
    assert spec_props["DateReceived"] == Shape(frozenset({"date-time"}), False, None)


def _seed_example(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    _, _, operation = specs.operation(spec, operation_id)
    media = (
        operation["requestBody"]["content"]
        if operation_id == "send"
        else operation["responses"]["200"]["content"]
    )
    return media["application/json"]["examples"]["seed"]["value"]


@pytest.mark.parametrize(("operation_id", "model"), [("send", models.MessageToSend), ("get", models.Message)])
def test_models_read_the_seed_samples_and_write_them_back(
    spec: dict[str, Any], operation_id: str, model: type[pydantic.BaseModel]
) -> None:
    sample = _seed_example(spec, operation_id)
    parsed = model.model_validate(sample)
    assert parsed.model_dump(mode="json", exclude_unset=True) == sample  # dates keep their UTC 'Z'


def test_absent_is_not_null_for_value_types() -> None:
    message = models.Message.model_validate({"Subject": None})
    assert message.MessageId is None and message.model_fields_set == {"Subject"}
    with pytest.raises(pydantic.ValidationError, match="MessageId"):
        models.Message.model_validate({"MessageId": None})
    with pytest.raises(pydantic.ValidationError, match="IsRead"):
        models.Message.model_validate({"IsRead": None})
    nulls = models.Message.model_validate({"From": None, "To": [None], "LastRepliedDateTime": None})
    assert nulls.From is None and nulls.To == [None] and nulls.LastRepliedDateTime is None


def test_unknown_vendor_fields_are_kept() -> None:
    person = models.PersonSimple.model_validate({"PersonId": 7, "Email": "x@example.test"})
    assert person.model_dump(exclude_unset=True) == {"PersonId": 7, "Email": "x@example.test"}


def test_api_error_needs_a_message() -> None:
    error = models.ApiError.model_validate(
        {"Message": "The request is invalid.", "ModelState": {"m.Subject": ["bad"]}}
    )
    assert error.Message == "The request is invalid." and error.ModelState == {"m.Subject": ["bad"]}
    with pytest.raises(pydantic.ValidationError, match="Message"):
        models.ApiError.model_validate({"MessageDetail": "no message"})
