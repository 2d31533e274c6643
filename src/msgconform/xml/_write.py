"""Value + Shape -> XML bytes.

Two steps: `_Builder` turns the value into a small tree of `_Node`s (names, namespaces,
text, nil) following the shapes; `_serialize` writes that tree, choosing namespace
declarations and prefixes:

- an element in the namespace that is the default in scope gets no prefix;
- else a prefix already in scope for its namespace is used;
- else the element re-declares the default namespace (`<Id xmlns="...Base">`).
- In the datacontract style the root declares `xmlns:i`, and a collection whose items are
  in another namespace declares a `d{depth}p1` prefix for them (`<Attachments
  xmlns:d2p1="...">`), as .NET's DataContractSerializer does. In the plain style the
  document starts with `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`, and a
  null is written as no element at all (`i:nil` and the XMLSchema-instance namespace are a
  .NET convention; a plain-XML vendor documents no null).

A value of the wrong type for its schema (negative tests send those) is still written, as
generic elements or as its text, so that the receiver can reject it. A character that XML
1.0 cannot carry, or a property name that cannot be an element name, raises XmlError.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from ._parse import XSI, XmlError
from ._shapes import ANY, SCALARS, Shape, Shapes

_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ASCII_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_NEVER_IN_NAME = frozenset("<>&\"'/=!?: \t\r\n")
_XS_SPECIAL = {"nan": "NaN", "inf": "INF", "-inf": "-INF"}  # xs:double spellings
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'


@dataclass
class _Node:
    name: str
    ns: str
    text: str | None = None
    cdata: bool = False
    nil: bool = False
    children: list[_Node] = field(default_factory=list)
    items_ns: str | None = None  # a collection: its items' namespace


def write(shapes: Shapes, shape: Shape, value: Any, *, datacontract: bool, pretty: bool) -> bytes:
    name = shapes.root_name(shape)
    builder = _Builder(shapes, omit_nulls=not datacontract)
    roots: list[_Node] = []
    try:
        builder.emit(roots, value, shape, name, shape.namespace(""), "/" + name)
    except RecursionError:
        raise XmlError(f"/{name}: the value is nested too deeply to write") from None
    if len(roots) != 1:
        raise XmlError(f"/{name}: a value of {len(roots)} elements cannot be one XML document")
    out: list[str] = []
    if not datacontract:
        out.append(DECLARATION + ("\n" if pretty else ""))
    declare_i = datacontract or builder.nil_used
    root_declarations = [("xmlns:i", XSI)] if declare_i else []
    prefixes = {"i": XSI} if declare_i else {}
    _serialize(roots[0], out, "", prefixes, 1, pretty, datacontract, root_declarations)
    return "".join(out).encode("utf-8")


class _Builder:
    def __init__(self, shapes: Shapes, *, omit_nulls: bool = False) -> None:
        self.shapes = shapes
        self.nil_used = False
        # Plain XML (a Java vendor's): `i:nil` is a .NET convention, and what null means is
        # undocumented there, so a null is written as no element at all.
        self.omit_nulls = omit_nulls

    def emit(self, out: list[_Node], value: Any, shape: Shape, name: str, ns: str, path: str) -> None:
        if value is None and self.omit_nulls:
            return
        if value is None:
            self.nil_used = True
            out.append(_Node(name, ns, nil=True))
        elif shape.kind == "object" and isinstance(value, dict):
            out.append(self._object(value, shape, name, ns, path))
        elif shape.kind == "array" and isinstance(value, list):
            items, item_name = self.shapes.item(shape, name)
            item_ns = items.namespace(ns)
            node = _Node(name, ns, items_ns=item_ns)
            for i, item in enumerate(value, 1):
                self.emit(node.children, item, items, item_name, item_ns, f"{path}/{item_name}[{i}]")
            out.append(node)
        elif shape.kind in SCALARS and not isinstance(value, (dict, list)):
            text = _text(value, shape, path)
            cdata = bool(shape.kind == "string" and shape.schema.get("x-xml-cdata") and "\r" not in text)
            out.append(_Node(name, ns, text=text, cdata=cdata))
        else:
            self._generic(out, value, name, ns, path)

    def _object(self, value: dict, shape: Shape, name: str, ns: str, path: str) -> _Node:
        node = _Node(name, ns)
        written = set()
        for member in self.shapes.members(shape):
            if member.key not in value:
                continue
            written.add(member.key)
            item = value[member.key]
            member_ns = member.shape.namespace(ns)
            member_path = f"{path}/{member.name}"
            if member.repeated and isinstance(item, list):
                items, _ = self.shapes.item(member.shape, member.name)
                for i, each in enumerate(item, 1):
                    self.emit(node.children, each, items, member.name, member_ns, f"{member_path}[{i}]")
            else:
                self.emit(node.children, item, member.shape, member.name, member_ns, member_path)
        extra = self.shapes.extra(shape) or ANY
        for key, item in value.items():
            if key not in written:  # not documented: written after the documented ones
                self.emit(node.children, item, extra, _element_name(key, path), ns, f"{path}/{key}")
        return node

    def _generic(self, out: list[_Node], value: Any, name: str, ns: str, path: str) -> None:
        """A value with no (matching) schema: dicts become elements, lists repeat the element."""
        if value is None and self.omit_nulls:
            return
        if value is None:
            self.nil_used = True
            out.append(_Node(name, ns, nil=True))
        elif isinstance(value, dict):
            node = _Node(name, ns)
            for key, item in value.items():
                self._generic(node.children, item, _element_name(key, path), ns, f"{path}/{key}")
            out.append(node)
        elif isinstance(value, list):
            for i, item in enumerate(value, 1):
                self._generic(out, item, name, ns, f"{path}[{i}]")
        else:
            out.append(_Node(name, ns, text=_text(value, ANY, path)))


def _text(value: Any, shape: Shape, path: str) -> str:
    if isinstance(value, float) and shape.kind == "integer" and value.is_integer():
        value = int(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        names = shape.schema.get("x-xml-enum-names") if shape.kind == "integer" else None
        by_number = {number: name for name, number in (names or {}).items()}
        text = str(by_number.get(value, value))  # an undocumented number is written as it is
    elif isinstance(value, float):
        text = repr(value) if math.isfinite(value) else _XS_SPECIAL[str(value)]
    elif isinstance(value, str) and shape.kind == "string" and shape.schema.get("x-xml-flags"):
        text = " ".join(part.strip() for part in value.split(",") if part.strip())
    else:
        text = str(value)
    bad = _NOT_XML_CHAR.search(text)
    if bad:
        raise XmlError(f"{path}: character U+{ord(bad.group()):04X} cannot be carried by XML 1.0")
    return text


def _element_name(key: Any, path: str) -> str:
    name = str(key)
    if _ASCII_NAME.fullmatch(name):
        return name
    if name and not (_NEVER_IN_NAME & set(name)) and not _NOT_XML_CHAR.search(name):
        try:
            ET.fromstring(f"<{name}/>")  # noqa: S314 - one empty element; `name` has no & < ! (no DTD, no entity)
            return name
        except ET.ParseError:
            pass
    raise XmlError(f"{path}: property {name[:40]!r} cannot be an XML element name")


def _serialize(
    node: _Node,
    out: list[str],
    default: str,
    prefixes: dict[str, str],
    depth: int,
    pretty: bool,
    datacontract: bool,
    declarations: list[tuple[str, str]],
) -> None:
    declarations = list(declarations)
    if node.ns == default:
        qname = node.name
    else:
        prefix = _prefix_for(prefixes, node.ns)
        if prefix is None:
            default = node.ns
            declarations.append(("xmlns", node.ns))
            qname = node.name
        else:
            qname = f"{prefix}:{node.name}"
    items_ns = node.items_ns
    if datacontract and items_ns and items_ns != default and _prefix_for(prefixes, items_ns) is None:
        prefix = f"d{depth}p1"
        prefixes = {**prefixes, prefix: items_ns}
        declarations.append((f"xmlns:{prefix}", items_ns))
    if node.nil:
        declarations.append(("i:nil", "true"))
    indent = "\n" + "  " * (depth - 1) if pretty else ""
    out.append(f"{indent if depth > 1 else ''}<{qname}")
    out.extend(f' {key}="{_escape_attribute(value)}"' for key, value in declarations)
    if node.children and not node.nil:
        out.append(">")
        for child in node.children:
            _serialize(child, out, default, prefixes, depth + 1, pretty, datacontract, [])
        out.append(f"{indent}</{qname}>")
    elif node.cdata and not node.nil:
        out.append(f"><![CDATA[{(node.text or '').replace(']]>', ']]]]><![CDATA[>')}]]></{qname}>")
    elif node.text and not node.nil:
        out.append(f">{_escape_text(node.text)}</{qname}>")
    else:
        out.append("/>")


def _prefix_for(prefixes: dict[str, str], ns: str) -> str | None:
    for prefix, uri in prefixes.items():
        if uri == ns:
            return prefix
    return None


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attribute(text: str) -> str:
    return _escape_text(text).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
