"""Safe parsing, the codec's errors, and a namespace-aware comparison of two documents.

Every XML document the codec reads goes through `parse`: defusedxml with DTDs, entity
declarations and external references all forbidden. A hostile document (XXE, "billion
laughs") is refused at its `<!DOCTYPE`, before anything is expanded or fetched.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import defusedxml.ElementTree as SafeET
from defusedxml.common import DefusedXmlException

XSI = "http://www.w3.org/2001/XMLSchema-instance"
NIL = f"{{{XSI}}}nil"
MAX_DEPTH = 200  # far beyond any documented body; keeps the recursive readers safe


class XmlError(ValueError):
    """Malformed XML, or XML (or a value) that is not the documented shape; the message says where."""


class XmlSecurityError(XmlError):
    """A DTD, an entity declaration or an external reference: refused, never expanded."""


def parse(data: bytes | str) -> ET.Element:
    """The root element of `data`, parsed without DTDs, entities or external references."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        name = type(exc).__name__
        raise XmlSecurityError(f"refused XML: {name} (DTDs and entities are not accepted)") from None
    except ET.ParseError as exc:
        raise XmlError(f"malformed XML: {exc}") from None
    _check_depth(root)
    return root


def _check_depth(root: ET.Element) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise XmlError(f"malformed XML: nested deeper than {MAX_DEPTH} elements")
        stack.extend((child, depth + 1) for child in element)


def split(tag: str) -> tuple[str, str]:
    """`{ns}local` -> (ns, local); no namespace is ""."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def clark(ns: str, local: str) -> str:
    """A qualified name for messages: `{ns}local`, or `local` when in no namespace."""
    return f"{{{ns}}}{local}" if ns else local


def is_nil(element: ET.Element) -> bool:
    return (element.get(NIL) or "").strip() in ("true", "1")


def equivalent(a: bytes | str, b: bytes | str) -> bool:
    """True when both documents have the same elements (namespace + local name) in the same
    order, the same attributes (an `i:nil="false"` counts as absent), and the same text once
    trimmed. Prefixes, namespace declarations, CDATA versus escaped text, the XML declaration,
    comments and indentation are ignored. Raises XmlError if either is not well-formed."""
    return _same(parse(a), parse(b))


def _same(x: ET.Element, y: ET.Element) -> bool:
    if x.tag != y.tag or _attributes(x) != _attributes(y) or len(x) != len(y):
        return False
    if (x.text or "").strip() != (y.text or "").strip():
        return False
    return all(
        _same(cx, cy) and (cx.tail or "").strip() == (cy.tail or "").strip() for cx, cy in zip(x, y, strict=True)
    )


def _attributes(element: ET.Element) -> dict[str, str]:
    attributes = dict(element.attrib)
    if NIL in attributes:
        if is_nil(element):
            attributes[NIL] = "true"
        else:
            del attributes[NIL]
    return attributes
