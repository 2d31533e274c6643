"""XML for Schemathesis: request bodies out, response bodies in, both through the codec.

Schemathesis serializes XML from OpenAPI's `xml` keyword alone: children may come out of
order and `null` becomes the text "null". .NET's DataContract deserializer silently drops
out-of-order elements, so such a request tests nothing. And Schemathesis validates only
JSON responses, so a broken XML response would pass. Registering the project's codec
(`msgconform.xmlcodec`, driven by the spec's `xml` objects and `x-xml-*` keys) for
`application/xml` and `text/xml` fixes both: bodies keep the documented order and `i:nil`,
and XML responses are validated against the same schemas as JSON ones.

The schemas are looked up in the operation's own raw definition, so this works for every
API whose spec follows the convention.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from msgconform.xmlcodec import XmlCodec, XmlError

XML_TYPES = ("application/xml", "text/xml")


_CODECS: dict[int, tuple[dict, XmlCodec]] = {}


def codec_for(spec: dict) -> XmlCodec:
    """One codec per loaded spec (specs are loaded once per run; keyed by identity)."""
    entry = _CODECS.get(id(spec))
    if entry is None or entry[0] is not spec:
        entry = _CODECS[id(spec)] = (spec, XmlCodec(spec))
    return entry[1]


def _resolve(spec: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node and len(node) == 1:
        node = _lookup(spec, node["$ref"])
    return node


def _lookup(spec: dict, ref: str) -> Any:
    node: Any = spec
    for token in ref.removeprefix("#/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def request_schema(spec: dict, operation: dict, media_type: str) -> dict | None:
    body = _resolve(spec, operation.get("requestBody"))
    content = (body or {}).get("content", {})
    entry = content.get(media_type)
    return entry.get("schema") if entry else None


def response_schema(spec: dict, operation: dict, status: int, media_type: str) -> dict | None:
    responses = operation.get("responses", {})
    documented = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    response = _resolve(spec, documented)
    content = (response or {}).get("content", {})
    entry = content.get(media_type)
    return entry.get("schema") if entry else None


def serialize_body(spec: dict, operation: dict, media_type: str, value: Any) -> bytes:
    """The XML for a generated body; raises XmlError when XML 1.0 cannot carry it."""
    schema = request_schema(spec, operation, media_type)
    if schema is None:
        raise XmlError(f"no {media_type} schema for this operation")
    return codec_for(spec).dumps(value, schema)


@schemathesis.serializer(*XML_TYPES)
def _serialize(ctx: Any, value: Any) -> bytes:
    # The public decorator wraps what this returns as the request's data: return the bytes.
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    operation = ctx.case.operation
    return serialize_body(operation.schema.raw_schema, operation.definition.raw, ctx.case.media_type, value)


@schemathesis.deserializer(*XML_TYPES)
def _deserialize(ctx: Any, response: Any) -> Any:
    operation = ctx.operation
    media_type = response.headers.get("content-type", [""])
    media_type = (media_type[0] if isinstance(media_type, list) else media_type).split(";")[0].strip().lower()
    spec = operation.schema.raw_schema
    schema = response_schema(spec, operation.definition.raw, response.status_code, media_type)
    if schema is None:
        raise ValueError(f"the spec has no {media_type} schema for status {response.status_code}")
    return codec_for(spec).loads(response.content, schema)


def missing_elements(spec: dict, schema: Any, value: Any, path: str = "") -> list[str]:
    """Documented elements an XML value lacks. DataContract writes every member (a null one
    as `i:nil`), so an element that is simply absent is a deviation from the samples."""
    schema = _merged(spec, schema)
    missing: list[str] = []
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        for name, prop in schema["properties"].items():
            if name not in value:
                missing.append(f"{path}/{name}: documented element missing")
            elif value[name] is not None:
                missing += missing_elements(spec, prop, value[name], f"{path}/{name}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            if item is not None:
                missing += missing_elements(spec, schema["items"], item, f"{path}[{index}]")
    return missing


def _merged(spec: dict, schema: Any) -> dict:
    """A schema with its `$ref` followed (siblings of the `$ref` kept) and `allOf` merged."""
    if not isinstance(schema, dict):
        return {}
    if "$ref" in schema:
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        return {**_merged(spec, _lookup(spec, schema["$ref"])), **siblings}
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            part = _merged(spec, part)
            merged.setdefault("properties", {}).update(part.get("properties", {}))
        return {**merged, **{k: v for k, v in schema.items() if k != "allOf"}}
    return schema
