"""XML element + Shape -> the JSON-like value, noting on the way where the XML departs
from the documented shape.

One walk serves both `loads` and `problems`. Reading is lenient about order (children are
matched by namespace and local name wherever they stand) and strict about types: a text
that does not convert to the schema's type stays a string, so that schema validation
fails on it afterwards. A child in the wrong namespace is not the property it resembles:
it is left out. An unknown element is kept as a string under its local name (so that
`additionalProperties: false` fails on it), unless that name is a property's. An object
schema without `properties`, or with an `additionalProperties` schema, is a map: its
children are its entries, not unknown elements.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any

from ._parse import clark, is_nil, split
from ._shapes import Shape, Shapes

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}  # xs:boolean


class Reading:
    def __init__(self, shapes: Shapes) -> None:
        self.shapes = shapes
        self.findings: list[str] = []
        self.wrong_root: str | None = None

    def document(self, root: ET.Element, shape: Shape) -> Any:
        name = self.shapes.root_name(shape)
        ns = shape.namespace("")
        root_ns, local = split(root.tag)
        path = "/" + local
        if (root_ns, local) != (ns, name):
            self.wrong_root = f"{path}: root element is {clark(root_ns, local)}, documented {clark(ns, name)}"
            self.findings.append(self.wrong_root)
        return self.value(root, shape, ns, name, path)

    def value(self, element: ET.Element, shape: Shape, ns: str, name: str, path: str) -> Any:
        """`ns` is the documented namespace of `element` (its children inherit it)."""
        if is_nil(element):
            if len(element) or (element.text or "").strip():
                self.findings.append(f"{path}: has content although i:nil is true")
            return None
        if shape.kind in ("object", "array"):
            if len(element) == 0 and (element.text or "").strip():
                self.findings.append(f"{path}: text where child elements are documented")
                return element.text
            self._stray_text(element, path)
            if shape.kind == "object":
                return self._object(element, shape, ns, path)
            return self._items(element, shape, ns, name, path)
        if shape.kind == "any":
            return _generic(element)
        if len(element):
            self.findings.append(f"{path}: child elements where text is documented")
        return _convert("".join(element.itertext()), shape)

    def _object(self, element: ET.Element, shape: Shape, ns: str, path: str) -> dict[str, Any]:
        members = self.shapes.members(shape)
        expected: dict[tuple[str, str], tuple[int, Any]] = {}
        documented_ns: dict[str, str] = {}
        for position, member in enumerate(members):
            member_ns = member.shape.namespace(ns)
            expected.setdefault((member_ns, member.name), (position, member))
            documented_ns.setdefault(member.name, member_ns)
        keys = {member.key for member in members}
        extra = self.shapes.extra(shape)  # None: undocumented children are unknown
        result: dict[str, Any] = {}
        last_position, last_name = -1, ""
        for child in element:
            child_ns, local = split(child.tag)
            child_path = f"{path}/{local}"
            hit = expected.get((child_ns, local))
            if hit is None:
                if local in documented_ns:
                    self.findings.append(
                        f"{child_path}: in {_ns(child_ns)}, documented in {_ns(documented_ns[local])} "
                        "(so it is not that property)"
                    )
                elif extra is not None:
                    _keep(result, local, self.value(child, extra, child_ns, local, child_path))
                    continue
                else:
                    self.findings.append(f"{child_path}: unknown element {clark(child_ns, local)}")
                    if local not in keys:
                        _keep(result, local, None if is_nil(child) else "".join(child.itertext()))
                continue
            position, member = hit
            if position < last_position:
                self.findings.append(f"{child_path}: out of documented order (documented before {last_name})")
            else:
                last_position, last_name = position, local
            if member.repeated:
                items, _ = self.shapes.item(member.shape, member.name)
                values = result.setdefault(member.key, [])
                values.append(self.value(child, items, child_ns, local, f"{child_path}[{len(values) + 1}]"))
            elif member.key in result:
                self.findings.append(f"{child_path}: repeated; only the first one is read")
            else:
                result[member.key] = self.value(child, member.shape, child_ns, local, child_path)
        return result

    def _items(self, element: ET.Element, shape: Shape, ns: str, name: str, path: str) -> list[Any]:
        items, item_name = self.shapes.item(shape, name)
        item_ns = items.namespace(ns)
        result = []
        for i, child in enumerate(element, 1):
            child_ns, local = split(child.tag)
            child_path = f"{path}/{local}[{i}]"
            if (child_ns, local) == (item_ns, item_name):
                result.append(self.value(child, items, item_ns, item_name, child_path))
            elif local == item_name:
                self.findings.append(f"{child_path}: in {_ns(child_ns)}, documented in {_ns(item_ns)}; not read")
            else:
                self.findings.append(
                    f"{child_path}: unknown element {clark(child_ns, local)}, documented items are "
                    f"{clark(item_ns, item_name)}; not read"
                )
        return result

    def _stray_text(self, element: ET.Element, path: str) -> None:
        if (element.text or "").strip() or any((child.tail or "").strip() for child in element):
            self.findings.append(f"{path}: text between child elements")


def _convert(text: str, shape: Shape) -> Any:
    """The typed value of `text`, or `text` itself when it does not convert."""
    stripped = text.strip()
    try:
        if shape.kind == "integer":
            names = shape.schema.get("x-xml-enum-names")
            if names:
                return names.get(stripped, text)
            return int(stripped) if _INTEGER.fullmatch(stripped) else text
        if shape.kind == "number":
            if _INTEGER.fullmatch(stripped):
                return int(stripped)
            number = float(stripped) if _DECIMAL.fullmatch(stripped) else math.nan
            return number if math.isfinite(number) else text
    except ValueError:  # more digits than Python converts
        return text
    if shape.kind == "boolean":
        return _BOOLEANS.get(stripped, text)
    if shape.kind == "string" and shape.schema.get("x-xml-flags"):
        return ", ".join(text.split())
    return text


def _generic(element: ET.Element) -> Any:
    """An element with no schema to go by: a dict of its children, else its text."""
    if is_nil(element):
        return None
    if len(element) == 0:
        return element.text or ""
    result: dict[str, Any] = {}
    for child in element:
        _keep(result, split(child.tag)[1], _generic(child))
    return result


def _keep(result: dict[str, Any], key: str, value: Any) -> None:
    if key not in result:
        result[key] = value
    elif isinstance(result[key], list):
        result[key].append(value)
    else:
        result[key] = [result[key], value]


def _ns(ns: str) -> str:
    return f"namespace {ns}" if ns else "no namespace"
