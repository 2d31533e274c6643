"""An answer's body as a *shape* (paths with their types) and as a *value* with the
volatile parts masked.

- JSON: paths from `$`: `$.To[].PersonId`; an array's items share `[]`. Types are JSON's:
  object, array, string, integer, number, boolean, null.
- XML: read with the project's codec (`msgconform.xmlcodec`) against the schema the spec
  documents for that answer (operation, status, media type), so element texts get the
  documented types (`<MessageId>82</MessageId>` is an integer, a text that does not convert
  stays a string). Paths are element paths from the root: `/Message/To[]/PersonId`; where
  the XML departs from the documented shape (elements out of order, say), the codec's
  finding is a path too: `(codec) /Message/Subject: out of documented order …`. XML the
  codec cannot read as documented (another root, another namespace, or no schema for that
  answer) is walked element by element with the codec's parser: `/{ns}root/child`, each
  element typed `element` (it has children), `nil` (`i:nil`), `text` or `empty`.
- Anything else: one path, `(text)`, typed `text` (or nothing for an empty body).

Masked values (compared answer by answer, never as a regression): what two recordings of
the same behaviour are expected to differ in. `VOLATILE` lists them with the reason; the
Markdown prints that list.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from msgconform.cassettes import SECRET_KEYS

JSON_TYPES = ("application/json", "text/json")
XML_TYPES = ("application/xml", "text/xml")

VOLATILE: tuple[tuple[str, str], ...] = (
    (
        "identifiers (members named `…Id`, `…id`, `…Ids`, `ref`; digits in URLs and paths)",
        "the vendor hands out new ones on every run",
    ),
    (
        "the instant of date-times (ISO 8601 values; their form, fraction digits and offset, is compared) "
        "and the `Date` header",
        "they are the time of the run",
    ),
    (
        "the scheme, host and port of URLs, query values in URLs",
        "the target's address and per-request references differ from run to run",
    ),
    ("digits inside texts (`No message with id 72`)", "they are identifiers and counts of the run"),
    (
        "byte sizes (members named `Size`, such as an e-mail's)",
        "the counted bytes carry the run's dates and identifiers (a `Date:` header, a Message-ID)",
    ),
    (
        "row versions (members named `ts`, such as CompleteEmpire's base64 counter)",
        "the vendor counts every write of the run in them, so they shift when an earlier request changed",
    ),
    (
        "the nonce in subjects the suite writes (`[msgconform] send 1a2b3c4d`)",
        "it counts the messages sent before, so it shifts when an earlier request changed",
    ),
    (
        "SuperOffice's run token (`T` and ten hex digits) in subjects, addresses and bodies, "
        "in answers and in delivered mail",
        "it counts the e-mails sent before, so it shifts when an earlier request changed "
        "(delivered mails are paired by it first)",
    ),
    (
        "in delivered mail: the `Date` and `Message-ID` (`In-Reply-To`, `References`) values and MIME boundaries",
        "the time of the run, and numbers the sending machine makes up",
    ),
    ("secrets (tokens, passwords: redacted before recording)", "never recorded"),
    (
        "`Content-Length`, `Connection`, `Transfer-Encoding`, `Keep-Alive`",
        "set by the HTTP stack, and lengths follow the ids above",
    ),
)
IGNORED_HEADERS = frozenset({"date", "content-length", "connection", "transfer-encoding", "keep-alive"})

_ID_KEY = re.compile(r"(?i)(id|ids|ref)$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_SIZE_KEY = re.compile(r"(?i)size$")
_ROW_VERSION_KEY = re.compile(r"(?i)ts")
_DIGITS = re.compile(r"\d+")
NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def media_type(content_type: str) -> str:
    """The media type without parameters, lower-case (`application/json; charset=utf-8` -> `application/json`)."""
    return content_type.split(";")[0].strip().lower()


def is_json(media: str) -> bool:
    return media in JSON_TYPES or media.endswith("+json")


def is_xml(media: str) -> bool:
    return media in XML_TYPES or media.endswith("+xml")


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def value_shape(value: Any, root: str = "$", sep: str = ".") -> dict[str, set[str]]:
    """path -> the types seen there, for a JSON-like value."""
    shape: dict[str, set[str]] = {}

    def walk(node: Any, path: str) -> None:
        shape.setdefault(path, set()).add(type_name(node))
        if isinstance(node, dict):
            for key, child in node.items():
                key = str(key)
                step = f"['{key}']" if sep in key or "[" in key or "'" in key else f"{sep}{key}"
                walk(child, f"{path}{step}")
        elif isinstance(node, list):
            for item in node:
                walk(item, f"{path}[]")

    walk(value, root)
    return shape


def read(body: str, media: str, codec_read) -> tuple[dict[str, set[str]], Any, str]:
    """(shape, masked value, root path) of a body. `codec_read(body)` returns (root name,
    value, findings) for XML the codec reads as documented, or None. The codec's findings
    (elements out of the documented order, say) are paths of the shape too, typed `finding`."""
    if not body.strip():
        return {}, None, ""
    if is_json(media):
        try:
            value = json.loads(body)
        except ValueError:
            return {"$": {"not JSON"}}, mask_text(body), "$"
        return value_shape(value), mask(value), "$"
    if is_xml(media):
        read_value = codec_read(body)
        if read_value is not None:
            root, value, findings = read_value
            shape = value_shape(value, f"/{root}", "/")
            for finding in findings:
                shape.setdefault(f"(codec) {_DIGITS.sub('N', finding)}", set()).add("finding")
            return shape, mask(value), f"/{root}"
        shape, value = _xml_walk(body)
        return shape, value, ""
    return {"(text)": {"text"}}, mask_text(body), ""


def _xml_walk(body: str) -> tuple[dict[str, set[str]], Any]:
    from msgconform.xml._parse import XmlError, parse, split  # the codec's parser (defusedxml)

    try:
        root = parse(body)
    except XmlError:
        return {"(xml)": {"not well-formed or refused XML"}}, mask_text(body)
    shape: dict[str, set[str]] = {}

    def name(element, parent_ns: str | None) -> str:
        ns, local = split(element.tag)
        return local if ns == parent_ns else f"{{{ns}}}{local}" if ns else local

    def walk(element, path: str, parent_ns: str | None) -> Any:
        ns, _ = split(element.tag)
        here = f"{path}/{name(element, parent_ns)}"
        children = list(element)
        value: Any
        if children:
            kind, value = "element", {}
            for child in children:
                value.setdefault(split(child.tag)[1], []).append(walk(child, here, ns))
        elif element.get(NIL) in ("true", "1"):
            kind, value = "nil", None
        elif (element.text or "").strip():
            kind, value = "text", element.text.strip()
        else:
            kind, value = "empty", ""
        shape.setdefault(here, set()).add(kind)
        return value

    value = walk(root, "", None)
    return shape, mask({split(root.tag)[1]: value})


# --- masking ------------------------------------------------------------------------------


def mask(value: Any, key: str = "") -> Any:
    """`value` with what is expected to differ between runs replaced by placeholders."""
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(item, key) for item in value]
    if key and SECRET_KEYS.fullmatch(key):
        return "<secret>"
    if key and _ID_KEY.search(key) and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return "<id>"
    if key and _SIZE_KEY.search(key) and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return "<size>"
    if key and _ROW_VERSION_KEY.fullmatch(key) and isinstance(value, (int, str)) and not isinstance(value, bool):
        return "<row version>"
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_text(text: str) -> str:
    date = _DATE_TIME.match(text.strip())
    if date:  # the instant differs; its form (fraction digits, offset) is behaviour
        fraction, offset = date.group(1), date.group(2)
        return (
            "<date-time"
            + (f", {len(fraction) - 1} fraction digits" if fraction else "")
            + f", {'offset ' + offset if offset else 'no offset'}>"
        )
    if re.match(r"^[a-z][a-z0-9+.-]*://", text.strip(), re.I) or text.startswith("/"):
        return mask_url(text.strip())
    text = mask_nonce(_URLS.sub(lambda m: mask_url(m.group(0)), text))
    return _DIGITS.sub("N", text)


_NONCE = re.compile(r"(\[msgconform\][^\"'<>]*?)\b[0-9a-f]{8}\b")
TOKEN = re.compile(r"(?<![0-9A-Za-z])T[0-9a-f]{10}(?![0-9A-Za-z])")


def mask_nonce(text: str) -> str:
    """The 8-hex nonce in a subject the suite wrote (`[msgconform] send 1a2b3c4d`), and the
    SuperOffice suite's token (`T` and ten hex digits, in subjects, addresses and bodies): each
    counts the messages the run sent before, so one request more or less early shifts every
    later one."""
    return TOKEN.sub("<token>", _NONCE.sub(r"\1<nonce>", text))


_URLS = re.compile(r"[a-z][a-z0-9+.-]*://[^\s\"'<>]+", re.I)


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    origin = "<origin>" if parts.netloc else ""
    path = _DIGITS.sub("N", parts.path)
    query = re.sub(r"=[^&]*", "=<v>", parts.query)
    return origin + path + (f"?{query}" if query else "")


def header_value(name: str, value: str) -> str:
    """A response header's value as compared answer by answer."""
    if name == "content-type":
        return ";".join(part.strip() for part in value.lower().split(";"))
    if name in ("location", "content-location", "link"):
        return mask_url(value)
    return mask_text(value)
