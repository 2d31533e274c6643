"""XML deviations and open choices shared by the reference servers.

The codec writes XML exactly as the seeds show it. Real servers differ in ways the
documents allow (other prefixes, namespaces declared on the root, no indentation, an XML
declaration, a parser that ignores a DTD) and in ways they do not (a root in the wrong
namespace, elements in another order, nil elements left out, entities expanded). These
helpers apply one such difference each; a server switches them on by fault or variant name:

    variants: xml-etree-style, xml-compact, xml-declaration, xml-dtd-ignored
    faults:   xml-root-namespace, xml-alphabetical, xml-omit-nil, xxe-expanded
"""

from __future__ import annotations

import asyncio
import copy
import re
import xml.etree.ElementTree as ET
from typing import Any

from msgconform.servers.faults import FaultSet
from msgconform.xmlcodec import XmlCodec

_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.S)
_ENTITY_REF = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)[\w.-]+;")


def etree_style(data: bytes) -> bytes:
    """The same document as ElementTree writes it: every namespace declared on the root,
    prefixes ns0, ns1..., no indentation (a different, equally valid, serializer)."""
    root = ET.fromstring(data)  # noqa: S314 - the server's own, codec-written XML (no DTD, no entities)
    _strip_whitespace(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)


def _strip_whitespace(element: ET.Element) -> None:
    if len(element):
        element.text = None if (element.text or "").strip() == "" else element.text
    for child in element:
        child.tail = None
        _strip_whitespace(child)


def with_declaration(data: bytes) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>' + data


def root_in_namespace(data: bytes, namespace: str) -> bytes:
    """Fault: the root element (and so every unqualified child) moved into `namespace`."""
    return re.sub(rb"^(\s*<\w+)", lambda m: m.group(1) + f' xmlns="{namespace}"'.encode(), data, count=1)


def alphabetical_codec(spec: dict) -> XmlCodec:
    """Fault: a codec whose element order is alphabetical (a serializer that ignores the
    DataContract's base-class-first order)."""
    changed = copy.deepcopy(spec)
    for schema in changed.get("components", {}).get("schemas", {}).values():
        if isinstance(schema, dict) and "x-xml-order" in schema:
            schema["x-xml-order"] = sorted(schema["x-xml-order"])
    return XmlCodec(changed)


def without_nils(value: Any) -> Any:
    """Fault: null members left out (EmitDefaultValue = false) instead of written as i:nil."""
    if isinstance(value, dict):
        return {k: without_nils(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nils(v) for v in value]
    return value


def ignore_dtd(data: bytes) -> bytes:
    """Variant: a parser that skips the DTD and drops references to entities it declared."""
    return _ENTITY_REF.sub(b"", _DOCTYPE.sub(b"", data))


_EXTERNAL_ENTITY = re.compile(rb"<!ENTITY\s+([\w.-]+)\s+(SYSTEM|PUBLIC)[^>]*>")


def expand_entities(data: bytes) -> bytes:
    """Fault: a parser that processes the DTD and expands the entities declared in it
    (expat expands internal ones), re-written without the DTD for the codec. External
    entities become a marker text instead: the reference server never reads a file."""
    for name, _ in _EXTERNAL_ENTITY.findall(data):
        data = data.replace(b"&" + name + b";", b"[external entity " + name + b" expanded]")
    root = ET.fromstring(_EXTERNAL_ENTITY.sub(b"", data))  # noqa: S314 - on purpose: a parser that expands entities
    return ET.tostring(root, encoding="utf-8")


async def dtd_as_faults_say(faults: FaultSet, raw: bytes, bomb_delay: float) -> bytes:
    """What a server's XML parser does with a DTD: by default nothing (the codec refuses the
    body); the faults `entity-bomb-slow` (a bomb takes `bomb_delay` seconds, then is refused),
    `xml-dtd-ignored` and `xxe-expanded` change that."""
    if faults.on("entity-bomb-slow") and raw.count(b"<!ENTITY") > 5:
        await asyncio.sleep(bomb_delay)  # as if the parser expanded the bomb, then refused
    if faults.on("xml-dtd-ignored"):
        return ignore_dtd(raw)
    if faults.on("xxe-expanded"):
        try:
            return expand_entities(raw)
        except Exception:  # noqa: BLE001 - an unreadable body stays as it was: refused
            return raw
    return raw
