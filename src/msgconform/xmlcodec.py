"""XML bodies, read and written the way the OpenAPI spec documents them.

OpenAPI's `xml` object cannot say everything a vendor's XML does (element order, `i:nil`,
enum names, flag lists), so the specs add a few `x-` keys, and this codec reads both:

- An object schema carries `xml: {name, namespace}`: its element name (used for a root or
  for array items) and the namespace of its .NET type. Element order is `x-xml-order: [...]`
  on the object schema (entries are property names or element names; properties it leaves
  out follow in `properties` order); without it, the order of `properties`.
- An element's namespace is its property schema's `xml.namespace` (`""` = no namespace;
  `xml` written next to a `$ref` wins over the referenced schema's, key by key), else its
  parent's. Its name is the `xml.name` written at the use site, else the property name; a
  root is named by the schema's `xml.name`, else its component name.
- Arrays: `xml: {wrapped: true}` gives a wrapper element named after the property, holding
  items named by the items schema's `xml.name` (else its component name, else the wrapper's
  name), in the items' namespace (else the wrapper's). An unwrapped array repeats the
  property's own element once per item (`<user/><user/>`), in the array's namespace. A
  top-level array is always wrapped: the root is the array schema's `xml.name`.
- Nullable (`type: [X, "null"]`, `nullable: true`, or `oneOf`/`anyOf` with a null branch):
  `None` <-> `<X i:nil="true"/>` in the datacontract style; the plain style writes no
  element for `None` (it still reads `i:nil`). An absent property has no element.
- Scalars: integer, number, boolean (`true`/`false`; `1`/`0` are read too, as xs:boolean
  allows), string (`date-time`, `uuid` and `byte` — base64 — stay text as they are).
  `x-xml-enum-names: {Low: 0}` on an integer: a number in JSON, the name in XML (a number
  without a name is written as the number; a name not listed is read as text).
  `x-xml-flags: true` on a string: JSON `"Seen, Answered"`, XML `Seen Answered`.
  `x-xml-cdata: true` on a string: written as CDATA.
- The spec's top-level `x-xml: {style: datacontract}` writes like .NET's
  DataContractSerializer: `xmlns:i` on the root, `d2p1`-style prefixes for a collection's
  items in another namespace. `style: plain` (the default) writes an XML declaration and
  no namespaces but the documented ones. Prefixes never matter when reading.
- `allOf` parts are merged (their properties, in order, base first). An object schema with
  no `properties`, or with an `additionalProperties` schema, is a map: keys are elements.

`loads` is lenient about order and strict about types (a text that does not convert stays a
string, so schema validation fails on it). A child in another namespace than documented is
not the property (it is left out); other unknown elements are kept as strings under their
local name. `problems` lists where the XML departs from the documented shape.

`dumps` writes a value of the wrong type as it is (negative tests need such bodies to reach
the receiver), but refuses (XmlError) a character XML 1.0 cannot carry rather than altering
the value: a fuzzer should skip such an example, not send a different one. Every document
is parsed with defusedxml: DTDs, entities and external references raise XmlSecurityError
before anything is expanded or read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .xml._parse import XmlError, XmlSecurityError, equivalent, parse
from .xml._read import Reading
from .xml._shapes import Shapes
from .xml._write import write

__all__ = ["XmlCodec", "XmlError", "XmlSecurityError", "equivalent"]

STYLES = ("datacontract", "plain")


class XmlCodec:
    """Reads and writes XML bodies for the schemas of one OpenAPI spec (a dict as loaded from YAML)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        style = (spec.get("x-xml") or {}).get("style", "plain")
        if style not in STYLES:
            raise XmlError(f"x-xml.style is {style!r}; expected one of {', '.join(STYLES)}")
        self.style: str = style
        self._shapes = Shapes(spec)

    def dumps(self, value: Any, schema: str | Mapping[str, Any], *, pretty: bool = True) -> bytes:
        """`value` (JSON-like) as a UTF-8 XML document of `schema`: a component name,
        "#/components/schemas/X", or a schema dict. Raises XmlError for a character XML
        1.0 cannot carry or a property name that cannot be an element name."""
        shape = self._shapes.lookup(schema)
        return write(self._shapes, shape, value, datacontract=self.style == "datacontract", pretty=pretty)

    def loads(self, data: bytes | str, schema: str | Mapping[str, Any]) -> Any:
        """The JSON-like value of an XML document of `schema`. Raises XmlError when it is
        malformed or its root is not the documented element, XmlSecurityError when it
        holds a DTD or entities."""
        reading = Reading(self._shapes)
        value = reading.document(parse(data), self._shapes.lookup(schema))
        if reading.wrong_root:
            raise XmlError(reading.wrong_root)
        return value

    def problems(self, data: bytes | str, schema: str | Mapping[str, Any]) -> list[str]:
        """Where the document departs from the documented XML shape (root name or namespace,
        elements in another namespace, out of documented order, unknown, repeated, stray
        text), one line each with its path; [] when it is exactly as documented. Types are
        left to schema validation of `loads`' result. Raises as `loads` does for malformed
        or hostile XML."""
        reading = Reading(self._shapes)
        reading.document(parse(data), self._shapes.lookup(schema))
        return reading.findings
