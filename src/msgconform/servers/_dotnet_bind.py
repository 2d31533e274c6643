"""What an ASP.NET Web API's binders make of a request body: Json.NET for JSON,
DataContractSerializer for XML. A binder profile, driven by the spec's schemas.

    bound = bind(spec, "MessageComposeModel", raw, "application/xml")
    bound.errors      # [] when the binder reads every value; else what it could not convert
    bound.value       # the model as the binder fills it (JSON member names, converted values)

Why it exists: the CompleteEmpire reference server plays an ASP.NET vendor, so it needs
the model as those binders fill it (converted values), not only whether they can read a
body. What the suite counts as negative is decided elsewhere, by `msgconform.binders` and
the profiles the spec names (`x-msgconform-binder`); tests/unit/test_dotnet_bind.py keeps
the two agreeing on the bodies it tries. The server's rules:

- Not well-formed (JSON that does not parse, XML that is not well-formed or has another
  root), or an empty body (no model at all): an error.
- Json.NET converts: a number or a boolean to a string; "true"/"false" (any case) and
  numbers to a boolean; any integer (int32) and any integral float, a member name (any
  case, comma-separated lists too) or a numeric string to an enum; a guid in any .NET
  format (hyphens or not, braces); a byte[] from base64 or from an array of byte numbers;
  a date from a string (DateTime.Parse reads many forms, so only a string without a digit
  is sure to fail). It matches member names case-insensitively and ignores unknown ones.
  It cannot convert: an object or array to a scalar, a scalar to a list or an object, a
  string that is no guid, an unknown enum name, null for a value type (guid, boolean,
  enum, date) that is not Nullable<T>.
- DataContractSerializer reads members in order and skips what it does not expect: an
  element out of order, repeated, unknown, in another namespace, or text between elements,
  is ignored, not an error. It converts with XmlConvert: booleans are true/false/1/0, guids
  in any .NET format, enums by their exact member name only (a number is an error), dates
  in the xsd:dateTime form, byte[] from base64. i:nil on a value type is an error.
- Form bodies: the encoding cannot express the model's types, so they are never judged
  here (`judged` is False).

Nullability comes from the schema: `"null"` in `type`, or a reference type (string, array,
object) in .NET terms. Formats name the .NET types: `uuid` Guid, `date-time` DateTime,
`byte` byte[]; an integer with `x-xml-enum-names` is an enum.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

__all__ = ["Bound", "bind", "bind_json", "bind_xml"]

JSON_TYPES = ("application/json", "text/json")
XML_TYPES = ("application/xml", "text/xml")
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_XSD_DATETIME = re.compile(r"\s*-?\d{4,}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?)?(Z|[+-]\d\d:\d\d)?\s*")
_INT32 = range(-(2**31), 2**31)


@dataclass
class Bound:
    """What the binder made of a body: the model (or None) and what it could not read."""

    value: Any = None
    errors: list[str] = field(default_factory=list)
    judged: bool = True  # False: a form body, which this profile does not judge

    @property
    def readable(self) -> bool:
        return not self.errors


class _Error(Exception):
    pass


def bind(spec: dict[str, Any], schema: str, raw: bytes, media_type: str | None) -> Bound:
    """Bind a raw body of `media_type` to the component `schema` of `spec`."""
    kind = (media_type or "").split(";")[0].strip().lower()
    if kind in XML_TYPES:
        return bind_xml(spec, schema, raw)
    if kind in JSON_TYPES:
        if not raw.strip():
            return Bound(None, ["an empty body gives no model"])
        try:
            value = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            return Bound(None, [f"the body is not JSON ({type(exc).__name__})"])
        return bind_json(spec, schema, value)
    return Bound(None, [], judged=False)


# --- schema helpers -------------------------------------------------------------------------


def _component(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _types(node: dict[str, Any]) -> set[str]:
    declared = node.get("type", "object" if "properties" in node else "string")
    return {declared} if isinstance(declared, str) else set(declared)


def _nullable(node: dict[str, Any]) -> bool:
    types = _types(node)
    if "null" in types:
        return True
    value_type = node.get("format") in ("uuid", "date-time") or types & {"boolean", "integer", "number"}
    return not value_type


def _kind(node: dict[str, Any]) -> str:
    types = _types(node) - {"null"}
    if "array" in types:
        return "list"
    if "object" in types:
        return "object"
    if node.get("format") == "uuid":
        return "guid"
    if node.get("format") == "date-time":
        return "date"
    if node.get("format") == "byte":
        return "bytes"
    if "x-xml-enum-names" in node:
        return "enum"
    if "boolean" in types:
        return "bool"
    if types & {"integer", "number"}:
        return "number"
    return "string"


def _guid(text: str) -> str:
    cleaned = text.strip()
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = cleaned[1:-1]
    try:
        return str(uuid.UUID(cleaned))
    except ValueError:
        raise _Error(f"{text!r} is not a guid") from None


# --- JSON (Json.NET) ------------------------------------------------------------------------


def bind_json(spec: dict[str, Any], schema: str, value: Any) -> Bound:
    bound = Bound()
    node = spec["components"]["schemas"][schema]
    if not isinstance(value, dict):
        bound.errors.append(f"the body is a JSON {type(value).__name__}, not an object")
        return bound
    bound.value = _json_object(spec, node, value, schema, bound.errors)
    return bound


def _json_object(spec: dict, node: dict, value: dict, where: str, errors: list[str]) -> dict:
    node = _component(spec, node)
    properties = node.get("properties", {})
    by_lower = {name.lower(): name for name in properties}
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = key if key in properties else by_lower.get(key.lower())
        if name is None:
            continue  # unknown members are ignored
        try:
            out[name] = _json_value(spec, properties[name], item, f"{where}.{name}", errors)
        except _Error as exc:
            errors.append(f"{where}.{name}: {exc}")
    return out


def _json_value(spec: dict, node: dict, value: Any, where: str, errors: list[str]) -> Any:
    node = {**_component(spec, node), **{k: v for k, v in node.items() if k != "$ref"}} if "$ref" in node else node
    if value is None:
        if _nullable(node):
            return None
        raise _Error("null for a value type")
    kind = _kind(node)
    if kind == "list":
        if not isinstance(value, list):
            raise _Error(f"a {type(value).__name__} for a list")
        items = node.get("items", {})
        out = []
        for index, item in enumerate(value):
            try:
                out.append(_json_value(spec, items, item, f"{where}[{index}]", errors))
            except _Error as exc:
                errors.append(f"{where}[{index}]: {exc}")
        return out
    if kind == "object":
        if not isinstance(value, dict):
            raise _Error(f"a {type(value).__name__} for an object")
        return _json_object(spec, node, value, where, errors)
    if isinstance(value, (dict, list)):
        raise _Error(f"a JSON {'object' if isinstance(value, dict) else 'array'} for a {kind}")
    if kind == "string":
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "guid":
        if not isinstance(value, str):
            raise _Error(f"{value!r} is not a guid")
        return _guid(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value != 0
        if value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _Error(f"{value!r} is not a boolean")
    if kind == "enum":
        return _json_enum(node, value)
    if kind == "date":
        if not isinstance(value, str) or not re.search(r"\d", value):
            raise _Error(f"{value!r} is not a date")
        return value
    if kind == "bytes":
        if isinstance(value, str):
            try:
                base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise _Error(f"{value!r} is not base64") from None
            return value
        raise _Error(f"{value!r} is not base64")
    if kind == "number":
        if isinstance(value, bool):
            raise _Error("a boolean for a number")
        return value
    return value


def _json_enum(node: dict, value: Any) -> int | str:
    names = {name.lower(): number for name, number in node["x-xml-enum-names"].items()}
    if isinstance(value, bool):
        raise _Error("a boolean for an enum")
    if isinstance(value, float):
        if not value.is_integer():
            raise _Error(f"{value!r} is not an integer")
        value = int(value)
    if isinstance(value, int):
        if value not in _INT32:
            raise _Error(f"{value} does not fit the enum's int32")
        return value
    text = value.strip()
    if re.fullmatch(r"[+-]?\d+", text) and int(text) in _INT32:
        return int(text)
    parts = [part.strip().lower() for part in text.split(",")]
    if parts and all(part in names for part in parts):
        return names[parts[0]] if len(parts) == 1 else text
    raise _Error(f"{value!r} is not a member of the enum")


# --- XML (DataContractSerializer) -------------------------------------------------------------


def bind_xml(spec: dict[str, Any], schema: str, raw: bytes) -> Bound:
    bound = Bound()
    node = spec["components"]["schemas"][schema]
    if not raw.strip():
        bound.errors.append("an empty body gives no model")
        return bound
    try:
        root = ElementTree.fromstring(raw, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        bound.errors.append(f"the body is not well-formed XML ({type(exc).__name__})")
        return bound
    xml = node.get("xml", {})
    root_name = xml.get("name", schema)
    expected = f"{{{xml.get('namespace', '')}}}{root_name}" if xml.get("namespace") else root_name
    if root.tag != expected:
        bound.errors.append(f"the root is {root.tag}, not {expected}")
        return bound
    bound.value = _xml_object(spec, node, root, xml.get("namespace", ""), schema, bound.errors)
    return bound


def _members(spec: dict, node: dict, namespace: str) -> list[tuple[str, str, dict]]:
    """(element tag, member name, schema) in the order the serializer expects them."""
    node = _component(spec, node)
    properties = node.get("properties", {})
    order = node.get("x-xml-order", list(properties))
    by_xml = {(p.get("xml", {}).get("name") or n): n for n, p in properties.items()}
    members = []
    for entry in order:
        name = entry if entry in properties else by_xml.get(entry)
        if name is None:
            continue
        prop = properties[name]
        xml = prop.get("xml", {})
        ns = xml.get("namespace", namespace)
        tag = f"{{{ns}}}{xml.get('name', name)}" if ns else xml.get("name", name)
        members.append((tag, name, prop))
    return members


def _xml_object(spec: dict, node: dict, element: Any, namespace: str, where: str, errors: list[str]) -> dict:
    members = _members(spec, node, namespace)
    position = 0
    out: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        found = next((i for i in range(position, len(members)) if members[i][0] == child.tag), None)
        if found is None:
            continue  # unknown, repeated or out of order: skipped
        position = found + 1
        _, name, prop = members[found]
        try:
            out[name] = _xml_value(spec, prop, child, namespace, f"{where}.{name}", errors)
        except _Error as exc:
            errors.append(f"{where}.{name}: {exc}")
    return out


def _xml_value(spec: dict, node: dict, element: Any, namespace: str, where: str, errors: list[str]) -> Any:
    target = {**_component(spec, node), **{k: v for k, v in node.items() if k != "$ref"}} if "$ref" in node else node
    if element.get(XSI_NIL, "").strip() in ("true", "1"):
        if _nullable(target):
            return None
        raise _Error("i:nil for a value type")
    kind = _kind(target)
    if kind == "list":
        items = target.get("items", {})
        item_schema = _component(spec, items)
        item_xml = {**item_schema.get("xml", {}), **items.get("xml", {})}
        item_ns = item_xml.get("namespace", namespace)
        item_name = item_xml.get("name", "item")
        item_tag = f"{{{item_ns}}}{item_name}" if item_ns else item_name
        out = []
        for index, child in enumerate(c for c in element if isinstance(c.tag, str) and c.tag == item_tag):
            try:
                out.append(_xml_value(spec, items, child, item_ns, f"{where}[{index}]", errors))
            except _Error as exc:
                errors.append(f"{where}[{index}]: {exc}")
        return out
    if kind == "object":
        ns = _component(spec, node).get("xml", {}).get("namespace", namespace)
        return _xml_object(spec, target, element, ns, where, errors)
    text = "".join(element.itertext())
    if kind == "string":
        return text
    if kind == "guid":
        return _guid(text)
    if kind == "bool":
        if text.strip() in ("true", "1", "false", "0"):
            return text.strip() in ("true", "1")
        raise _Error(f"{text!r} is not a boolean")
    if kind == "enum":
        names = target["x-xml-enum-names"]
        if text.strip() in names:
            return names[text.strip()]
        raise _Error(f"{text!r} is not the name of a member")
    if kind == "date":
        if not _XSD_DATETIME.fullmatch(text):
            raise _Error(f"{text!r} is not an xsd:dateTime")
        return text.strip()
    if kind == "bytes":
        try:
            base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise _Error(f"{text!r} is not base64") from None
        return "".join(text.split())
    if kind == "number":
        try:
            return int(text.strip())
        except ValueError:
            raise _Error(f"{text!r} is not a number") from None
    return text
