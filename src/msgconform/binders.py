"""What a vendor's platform can read from a request: its binder, as data.

A generated request is meant to be invalid ("negative"), but what decides whether a vendor
must refuse it is the request as it went over the wire, read the way the vendor's own
platform reads it. ASP.NET's Json.NET converts "5" to 5 and ignores unknown members; .NET's
DataContractSerializer skips an element out of the documented order, text inside a
collection wrapper and unknown elements; a Java mapper truncates 5.5 to 5. A body such a
binder reads without complaint is not negative, however far it is from the JSON Schema.

A request counts as negative only when the binder cannot read it:

- the body is not well-formed for its media type (or has the wrong root element);
- a leaf value cannot be converted to its documented type (`"abc"` for an integer, an
  object where a string is documented, a null for a .NET value type);
- a documented constraint on a value it did read is broken (`enum`, `minLength`, ...), or
  a required parameter or member is missing.

Profiles live in `binders.yaml` (one per platform binder: Json.NET, DataContract, ASP.NET
forms, Jackson, JAXB); a spec names its own with a top-level key
`x-msgconform-binder: {json: jsonnet, xml: datacontract, form: aspnet-form}`, so that a new
API on a known platform only names profiles. Walking the schema reuses the XML codec's
`Shapes` (refs, allOf, nullability, element names and order).

    problems = binders.request_problems(spec, operation, path_parameters, query, media_type, body)
    negative = bool(problems)
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml

from msgconform.xml._parse import XmlError, is_nil, parse, split
from msgconform.xml._shapes import ANY, Member, Shape, Shapes

__all__ = ["Profile", "body_problems", "profile", "profiles_for", "request_problems", "text_problem"]

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_GUID = re.compile(r"[{(]?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}[})]?")
_INT64 = range(-(2**63), 2**63)
_JSON = ("application/json", "text/json")
_XML = ("application/xml", "text/xml")
_FORM = "application/x-www-form-urlencoded"
_MAX_PROBLEMS = 5


@dataclass(frozen=True)
class Profile:
    name: str
    describes: str
    format: str
    member_names: str = "exact"
    integer_from_string: bool = False
    integer_from_integral_float: bool = False
    integer_from_fraction: bool = False
    string_from_scalar: bool = False
    boolean_from_string: bool = False
    boolean_from_integer: bool = False
    empty_string_is_null: bool = False
    nulls: str = "reference"
    enum_from_any_integer: bool = False
    enum_names: str = "exact"
    enum_text: str = "names-or-numbers"
    guid_forms: bool = False
    value_type_formats: tuple[str, ...] = ()
    xml_order: str = "any"
    xml_repeated: str = "first"
    xml_children_in_scalar: str = "refuse"


@cache
def _profiles() -> dict[str, Profile]:
    data = yaml.safe_load(Path(__file__).with_suffix(".yaml").read_text(encoding="utf-8"))
    return {name: Profile(name=name, **_fields(entry)) for name, entry in data.items()}


def _fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A profile's fields as the YAML gives them, lists made tuples (the profile is frozen)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}


def profile(name: str) -> Profile:
    try:
        return _profiles()[name]
    except KeyError:
        raise KeyError(f"no binder profile {name!r} in binders.yaml") from None


def profiles_for(spec: Mapping[str, Any]) -> dict[str, Profile]:
    """The spec's binders by body format (json, xml, form); strict ones where it names none."""
    named = spec.get("x-msgconform-binder") or {}
    return {kind: profile(name) for kind, name in named.items()}


def _strict(kind: str) -> Profile:
    return Profile(name=f"strict-{kind}", describes="no conversions", format=kind)


# --- the whole request ------------------------------------------------------------------------


def request_problems(
    spec: Mapping[str, Any],
    operation: Mapping[str, Any],
    path_parameters: Mapping[str, str],
    query: list[tuple[str, str]],
    media_type: str | None,
    body: bytes,
) -> list[str]:
    """Why the vendor's binder cannot read this request as sent; [] when it can."""
    shapes = _shapes(spec)
    binders = profiles_for(spec)
    text_binder = binders.get("form") or binders.get("json") or _strict("form")
    problems: list[str] = []
    query_names = {name for name, _ in query}
    for parameter in _parameters(shapes, operation):
        where, name = parameter.get("in"), parameter.get("name")
        if where == "path":
            values = [path_parameters[name]] if name is not None and name in path_parameters else []
        elif where == "query":
            values = [v for k, v in query if k == name] if name in query_names else []
        else:
            continue
        if not values:
            if parameter.get("required"):
                problems.append(f"{where} parameter {name} is missing")
            continue
        problem = text_problem(values[0], shapes.shape(parameter.get("schema") or {}), text_binder)
        if problem:
            problems.append(f"{where} parameter {name}: {problem}")
    request_body = _resolve(spec, operation.get("requestBody"))
    if isinstance(request_body, Mapping) and (request_body.get("content") or {}):
        problems += body_problems(spec, request_body, media_type, body)
    return problems[:_MAX_PROBLEMS]


def body_problems(
    spec: Mapping[str, Any], request_body: Mapping[str, Any], media_type: str | None, body: bytes
) -> list[str]:
    """Why the binder for `media_type` cannot read `body` as the operation's request body."""
    kind = (media_type or "").split(";")[0].strip().lower()
    content = request_body.get("content") or {}
    if kind not in content:
        return []  # a media type the operation does not read: 415 is the vendor's to choose
    if not body.strip():
        return ["the body is empty"] if request_body.get("required") else []
    shapes = _shapes(spec)
    shape = shapes.shape(content[kind].get("schema") or {})
    binders = profiles_for(spec)
    walker = _Walker(shapes)
    if kind in _JSON:
        try:
            value = json.loads(body.decode("utf-8-sig"))
        except (ValueError, RecursionError):
            return ["the body is not well-formed JSON"]
        walker.json(value, shape, binders.get("json") or _strict("json"), "")
    elif kind in _XML:
        try:
            root = parse(body)
        except XmlError as exc:
            return [f"the body is not well-formed XML ({type(exc).__name__})"]
        walker.xml_document(root, shape, binders.get("xml") or _strict("xml"))
    elif kind == _FORM:
        try:
            pairs = parse_qsl(body.decode("utf-8-sig"), keep_blank_values=True)
        except (ValueError, UnicodeDecodeError):
            return ["the body is not a well-formed form"]
        walker.form(pairs, shape, binders.get("form") or _strict("form"))
    else:
        return []
    return walker.problems


# --- reading ----------------------------------------------------------------------------------


class _Walker:
    def __init__(self, shapes: Shapes) -> None:
        self.shapes = shapes
        self.problems: list[str] = []

    def fail(self, path: str, why: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(f"{path or '/'}: {why}")

    # -- JSON

    def json(self, value: Any, shape: Shape, binder: Profile, path: str) -> None:
        if value is None:
            if not _null_readable(shape, binder):
                self.fail(path, f"null for a {shape.kind} value")
            return
        if value == "" and binder.empty_string_is_null and _null_readable(shape, binder):
            return
        kind = shape.kind
        if kind == "object":
            if not isinstance(value, dict):
                self.fail(path, f"{_what(value)} where an object is documented")
                return
            self._members(value, shape, binder, path)
        elif kind == "array":
            if isinstance(value, dict) and shape.schema.get("oneOf"):
                value = [value]  # the spec allows a single object for a one-element list
            if not isinstance(value, list):
                self.fail(path, f"{_what(value)} where a list is documented")
                return
            items, _ = self.shapes.item(shape, "item")
            for index, item in enumerate(value):
                self.json(item, items, binder, f"{path}[{index}]")
        elif kind == "any":
            kinds = [t for t in _types(shape.schema) if t != "null"]
            if kinds and not any(_scalar_problem(value, kind, shape, binder) is None for kind in kinds):
                self.fail(path, f"{_what(value)} is none of {', '.join(kinds)}")
        else:
            problem = _scalar_problem(value, kind, shape, binder)
            if problem:
                self.fail(path, problem)

    def _members(self, value: dict, shape: Shape, binder: Profile, path: str) -> None:
        members = {m.key: m for m in self.shapes.members(shape)}
        fold = binder.member_names == "case-insensitive"
        by_name = {(k.lower() if fold else k): m for k, m in members.items()}
        seen: dict[str, Any] = {}
        for key, item in value.items():
            member = by_name.get(str(key).lower() if fold else str(key))
            if member is None:
                extra = self.shapes.extra(shape)
                if extra is not None and extra is not ANY:
                    self.json(item, extra, binder, f"{path}/{key}")
                continue  # unknown members are ignored
            seen[member.key] = item  # a repeated key: the last one wins
        for key, item in seen.items():
            self.json(item, members[key].shape, binder, f"{path}/{key}")
        for name in shape.schema.get("required") or ():
            if name not in seen:
                self.fail(path, f"required member {name} is missing")

    # -- XML

    def xml_document(self, root: ET.Element, shape: Shape, binder: Profile) -> None:
        name = self.shapes.root_name(shape)
        ns = shape.namespace("")
        if split(root.tag) != (ns, name):
            self.fail("/", f"the root element is not {name}" + (f" in {ns}" if ns else ""))
            return
        self.xml(root, shape, binder, ns, "/" + name)

    def xml(self, element: ET.Element, shape: Shape, binder: Profile, ns: str, path: str) -> None:
        if is_nil(element):
            if not _null_readable(shape, binder):
                self.fail(path, f"i:nil for a {shape.kind} value")
            return
        kind = shape.kind
        if kind == "object":
            self._xml_members(element, shape, binder, ns, path)
        elif kind == "array":
            items, item_name = self.shapes.item(shape, split(element.tag)[1])
            item_ns = items.namespace(ns)
            for index, child in enumerate(element, 1):
                if split(child.tag) == (item_ns, item_name):  # other children are skipped
                    self.xml(child, items, binder, item_ns, f"{path}/{item_name}[{index}]")
        elif kind == "any":
            kinds = [t for t in _types(shape.schema) if t != "null"]
            text = "".join(element.itertext())
            if kinds and not any(_text_problem(text, k, shape, binder) is None for k in kinds):
                self.fail(path, f"{text[:40]!r} is none of {', '.join(kinds)}")
        else:
            if len(element) and binder.xml_children_in_scalar == "refuse":
                self.fail(path, "child elements where a value is documented")
                return
            text = (element.text or "") if len(element) else "".join(element.itertext())
            problem = _text_problem(text, kind, shape, binder)
            if problem:
                self.fail(path, problem)

    def _xml_members(self, element: ET.Element, shape: Shape, binder: Profile, ns: str, path: str) -> None:
        members = self.shapes.members(shape)
        position_of: dict[tuple[str, str], tuple[int, Member]] = {}
        for position, member in enumerate(members):
            position_of.setdefault((member.shape.namespace(ns), member.name), (position, member))
        read: dict[str, list[ET.Element]] = {}
        last = -1
        for child in element:  # text between children is skipped
            hit = position_of.get(split(child.tag))
            if hit is None:
                continue  # an unknown element (or one in another namespace) is skipped
            position, member = hit
            if binder.xml_order == "documented":
                if position < last or (position == last and not member.repeated):
                    continue  # DataContract skips a member out of the documented order
                last = position
            elements = read.setdefault(member.key, [])
            if member.repeated or not elements:
                elements.append(child)
            elif binder.xml_repeated == "last":
                elements[0] = child
        for member in members:
            for index, child in enumerate(read.get(member.key, ()), 1):
                child_ns = member.shape.namespace(ns)
                if member.repeated:
                    items, _ = self.shapes.item(member.shape, member.name)
                    self.xml(child, items, binder, child_ns, f"{path}/{member.name}[{index}]")
                else:
                    self.xml(child, member.shape, binder, child_ns, f"{path}/{member.name}")
        for name in shape.schema.get("required") or ():
            if name not in read:
                self.fail(path, f"required member {name} is missing")

    # -- forms: only what the form encoding can say (text values; lists as repeated keys)

    def form(self, pairs: list[tuple[str, str]], shape: Shape, binder: Profile) -> None:
        if shape.kind != "object":
            return
        fold = binder.member_names == "case-insensitive"
        members = {(m.key.lower() if fold else m.key): m for m in self.shapes.members(shape)}
        values: dict[str, list[str]] = {}
        for key, value in pairs:
            name = re.sub(r"\[\d*\]$", "", key)
            member = members.get(name.lower() if fold else name)
            if member is not None:
                values.setdefault(member.key, []).append(value)
        for member in members.values():
            given = values.get(member.key)
            if not given:
                continue
            target = member.shape
            if target.kind == "array":
                items, _ = self.shapes.item(target, member.key)
                for index, text in enumerate(given):
                    self._form_text(text, items, binder, f"/{member.key}[{index}]")
            elif target.kind in ("object", "any"):
                continue  # nested objects have no form encoding the documents describe
            else:
                self._form_text(given[0], target, binder, f"/{member.key}")

    def _form_text(self, text: str, shape: Shape, binder: Profile, path: str) -> None:
        if text == "" and binder.empty_string_is_null and _null_readable(shape, binder):
            return
        if shape.kind in ("object", "array", "any"):
            return
        problem = _text_problem(text, shape.kind, shape, binder)
        if problem:
            self.fail(path, problem)


# --- leaves -------------------------------------------------------------------------------------


def text_problem(text: str, shape: Shape, binder: Profile) -> str | None:
    """Why `text` (a path or query value) cannot be read as `shape`; None when it can."""
    if shape.kind in ("object", "array", "any"):
        return None
    return _text_problem(text, shape.kind, shape, binder)


def _text_problem(text: str, kind: str, shape: Shape, binder: Profile) -> str | None:
    """A value carried as text (XML, forms, URLs): the platform's text conversions."""
    stripped = text.strip()
    if kind == "integer":
        names = shape.schema.get("x-xml-enum-names") or {}
        if names and _enum_name(stripped, names, binder):
            return None
        if names and binder.enum_text == "names":
            return f"{text[:40]!r} is no member name of the enum"  # XmlConvert reads enums by name only
        if not _INTEGER.fullmatch(text) or int(stripped) not in _INT64:
            return f"{text[:40]!r} is not an integer"
        return _integer_constraints(int(stripped), shape, binder)
    if kind == "number":
        if not _NUMBER.fullmatch(text):
            return f"{text[:40]!r} is not a number"
        return _constraints(float(stripped), shape)
    if kind == "boolean":
        if stripped not in ("true", "false", "1", "0") and not (
            binder.boolean_from_string and stripped.lower() in ("true", "false")
        ):
            return f"{text[:40]!r} is not a boolean"
        return None
    if kind == "string":
        return _string_problem(text, shape, binder)
    return None


def _scalar_problem(value: Any, kind: str, shape: Shape, binder: Profile) -> str | None:
    """A JSON value for a scalar of `kind`: the platform's JSON conversions."""
    if isinstance(value, (dict, list)):
        return f"{_what(value)} where {_article(kind)} is documented"
    if kind == "integer":
        names = shape.schema.get("x-xml-enum-names") or {}
        if isinstance(value, bool):
            return f"{value!r} is not an integer"  # neither Json.NET nor Jackson reads true as a number
        if isinstance(value, int):
            if value not in _INT64:
                return f"{value} is out of range"
            if names and not binder.enum_from_any_integer and value not in names.values():
                return f"{value} is not a documented value"
            return _integer_constraints(value, shape, binder)
        if isinstance(value, float):
            if (
                math.isfinite(value)
                and ((value.is_integer() and binder.integer_from_integral_float) or binder.integer_from_fraction)
                and int(value) in _INT64
            ):
                return _integer_constraints(int(value), shape, binder)
            return f"{value!r} is not an integer"
        if isinstance(value, str):
            if names and _enum_name(value.strip(), names, binder):
                return None
            if binder.integer_from_string and _INTEGER.fullmatch(value) and int(value.strip()) in _INT64:
                return _integer_constraints(int(value.strip()), shape, binder)
            return f"{value[:40]!r} is not an integer"
    if kind == "number":
        if isinstance(value, bool):
            return f"{value!r} is not a number"
        if isinstance(value, (int, float)):
            return _constraints(value, shape)
        if isinstance(value, str) and binder.integer_from_string and _NUMBER.fullmatch(value):
            return _constraints(float(value), shape)
        return f"{_what(value)} is not a number"
    if kind == "boolean":
        if isinstance(value, bool):
            return None
        if isinstance(value, int) and binder.boolean_from_integer:
            return None
        if isinstance(value, str) and binder.boolean_from_string and value.strip().lower() in ("true", "false"):
            return None
        return f"{_what(value)} is not a boolean"
    if kind == "string":
        if isinstance(value, str):
            return _string_problem(value, shape, binder)
        if binder.string_from_scalar:
            return _string_problem(json.dumps(value), shape, binder)
        return f"{_what(value)} is not a string"
    return None


def _string_problem(text: str, shape: Shape, binder: Profile) -> str | None:
    form = shape.schema.get("format")
    if form == "uuid":
        ok = (
            _GUID.fullmatch(text.strip())
            if binder.guid_forms
            else re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", text)
        )
        if not ok:
            return f"{text[:40]!r} is not a guid"
    elif form == "byte":
        try:
            base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            return f"{text[:40]!r} is not base64"
    return _constraints(text, shape)


def _constraints(value: Any, shape: Shape) -> str | None:
    """Documented constraints on a value the binder did read."""
    schema = shape.schema
    if "enum" in schema and value not in schema["enum"]:
        return f"{value!r} is not one of the documented values"
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            return f"{value[:40]!r} is shorter than {schema['minLength']} characters"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"a text longer than {schema['maxLength']} characters"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return f"{value[:40]!r} does not match {schema['pattern']}"
    elif isinstance(value, (int, float)):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{value} is below {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{value} is above {schema['maximum']}"
    return None


def _integer_constraints(value: int, shape: Shape, binder: Profile) -> str | None:
    """An integer's constraints; an enum (`x-xml-enum-names`) on a platform that casts any
    integer to an enum (Json.NET, ASP.NET form binding) has no documented-values constraint."""
    if shape.schema.get("x-xml-enum-names") and binder.enum_from_any_integer:
        return None
    return _constraints(value, shape)


def _enum_name(text: str, names: Mapping[str, int], binder: Profile) -> bool:
    if binder.enum_names == "case-insensitive":
        return text.lower() in {name.lower() for name in names}
    return text in names


def _null_readable(shape: Shape, binder: Profile) -> bool:
    if shape.nullable or binder.nulls == "any":
        return True
    if shape.kind == "string" and shape.schema.get("format") in binder.value_type_formats:
        return False  # a string on the wire, a value type in the model (a .NET Guid, DateTime)
    return shape.kind in ("object", "array", "string", "any")  # .NET reference types


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    return list(declared) if isinstance(declared, list) else [declared] if isinstance(declared, str) else []


def _what(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value)[:40]


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


# --- the spec -------------------------------------------------------------------------------------

_SHAPES: dict[int, tuple[Mapping, Shapes]] = {}


def _shapes(spec: Mapping[str, Any]) -> Shapes:
    entry = _SHAPES.get(id(spec))
    if entry is None or entry[0] is not spec:
        entry = _SHAPES[id(spec)] = (spec, Shapes(spec))
    return entry[1]


def _resolve(spec: Mapping[str, Any], node: Any) -> Any:
    for _ in range(32):
        if not (isinstance(node, Mapping) and "$ref" in node):
            return node
        target: Any = spec
        for token in node["$ref"].removeprefix("#/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _parameters(shapes: Shapes, operation: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = shapes._spec  # the same spec the shapes read
    return [_resolve(spec, p) for p in operation.get("parameters") or () if isinstance(_resolve(spec, p), Mapping)]
