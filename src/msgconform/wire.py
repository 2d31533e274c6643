"""The request as it went over the wire, decoded as the receiver decodes it.

Checks reason about what was sent, never about the value a generator meant to send: a
negative example whose violation did not survive serialization is not negative, and two
`<message>` elements are two messages whatever the generator's list held. The harness
keeps only the bytes of a request; `decode` turns them into the value checks see:

- JSON (`application/json`, `text/json`): the parsed document;
- XML (`application/xml`, `text/xml`): the spec-driven codec's reading for the
  operation's request schema (`msgconform.xmlcodec`);
- a form (`application/x-www-form-urlencoded`): the (name, value) pairs in their order,
  which is all the form encoding expresses;
- anything else: the text (or the bytes, when they are not UTF-8);
- an empty body: None. A body that does not decode: an `Undecodable` saying why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from msgconform.xmlcodec import XmlCodec, XmlError

JSON_TYPES = ("application/json", "text/json")
XML_TYPES = ("application/xml", "text/xml")
FORM_TYPE = "application/x-www-form-urlencoded"

_CODECS: dict[int, tuple[Mapping, XmlCodec]] = {}


@dataclass(frozen=True)
class Undecodable:
    """A body that its media type cannot read (malformed JSON or XML, a bad encoding)."""

    media_type: str
    reason: str


def media_type_of(header: str | None) -> str:
    return (header or "").split(";")[0].strip().lower()


def _request_content(spec: Mapping[str, Any], operation: Mapping[str, Any]) -> Mapping[str, Any]:
    body = operation.get("requestBody")
    while isinstance(body, Mapping) and "$ref" in body:
        node: Any = spec
        for token in body["$ref"].removeprefix("#/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        body = node
    content = body.get("content") if isinstance(body, Mapping) else None
    return content if isinstance(content, Mapping) else {}


def request_schema(spec: Mapping[str, Any], operation: Mapping[str, Any], media_type: str) -> Any:
    entry = _request_content(spec, operation).get(media_type)
    return entry.get("schema") if isinstance(entry, Mapping) else None


def request_media_types(spec: Mapping[str, Any], operation: Mapping[str, Any]) -> list[str]:
    """The request media types an operation declares, in the spec's order."""
    return list(_request_content(spec, operation))


def _codec(spec: Mapping[str, Any]) -> XmlCodec:
    entry = _CODECS.get(id(spec))
    if entry is None or entry[0] is not spec:
        entry = _CODECS[id(spec)] = (spec, XmlCodec(spec))
    return entry[1]


def decode(
    spec: Mapping[str, Any] | None,
    operation: Mapping[str, Any] | None,
    content_type: str | None,
    content: bytes | str | None,
) -> Any:
    """The value of a request body as sent (see the module docstring)."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    if not content:
        return None
    kind = media_type_of(content_type)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Undecodable(kind, "the body is not UTF-8") if kind in JSON_TYPES + XML_TYPES + (FORM_TYPE,) else content
    if kind in JSON_TYPES:
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            return Undecodable(kind, f"not well-formed JSON ({type(exc).__name__})")
    if kind in XML_TYPES:
        schema = request_schema(spec, operation, kind) if spec is not None and operation is not None else None
        if schema is None:
            return Undecodable(kind, "the operation has no XML schema for this media type")
        assert spec is not None  # the schema was found in it
        try:
            return _codec(spec).loads(content, schema)
        except XmlError as exc:
            return Undecodable(kind, str(exc) or "not well-formed XML")
    if kind == FORM_TYPE:
        return parse_qsl(text, keep_blank_values=True)
    return text
