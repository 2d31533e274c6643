"""Body plumbing shared by the reference servers: media types, content negotiation, and
turning request bodies into Python values and Python values into response bodies.

The vendor APIs are ASP.NET-style: a request body may be JSON, XML or a form, and the
`Accept` header picks the response format (JSON when it names nothing we write). Every
format question a server has goes through one `Bodies` object, so a server's handlers
only ever see plain Python values:

    bodies = Bodies("itslearning")
    media = bodies.negotiate(request.headers.get("accept"))
    body = bodies.read(raw, request.headers.get("content-type"), "MessageToSend")
    data = bodies.write(value, "Message", media)

XML comes from the spec-driven codec (`msgconform.xmlcodec`, fed with `specs/<api>.yaml`),
so the reference servers write exactly the XML shapes the specs document (element order,
namespaces, `i:nil`), and hostile XML (DTDs, entities) is refused by the codec's parser.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from msgconform import specs
from msgconform.xmlcodec import XmlCodec, XmlError

JSON_TYPES = ("application/json", "text/json")
XML_TYPES = ("application/xml", "text/xml")
FORM_TYPE = "application/x-www-form-urlencoded"


class UnsupportedMediaType(Exception):
    """The request body has a media type this server does not read (answer 415)."""

    def __init__(self, media_type: str) -> None:
        super().__init__(media_type)
        self.media_type = media_type


class MalformedBody(Exception):
    """The request body cannot be parsed in its declared media type (answer 400)."""


@dataclass(frozen=True)
class Body:
    """A parsed request body: `media_type` without parameters, and its value.

    JSON and XML give whatever the document holds (XML: the codec's dict); a form gives
    a list of (name, value) string pairs in their order; an empty body gives None.
    """

    media_type: str
    value: Any


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """`text/json; charset=UTF-8` -> ("text/json", {"charset": "UTF-8"}); "" when absent."""
    if not header:
        return "", {}
    main, *rest = header.split(";")
    params = {}
    for item in rest:
        key, _, value = item.partition("=")
        if key.strip():
            params[key.strip().lower()] = value.strip().strip('"')
    return main.strip().lower(), params


def _accept_ranges(header: str) -> list[str]:
    """Media ranges of an Accept header, highest q first (header order breaks ties); q=0 dropped."""
    ranges: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        kind, params = media_type(item)
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 1.0
        if kind and q > 0:
            ranges.append((-q, index, kind))
    return [kind for _, _, kind in sorted(ranges)]


@cache
def _xml_codec(api: str) -> XmlCodec:
    """One codec per API and process: it only reads the spec, so apps can share it."""
    return XmlCodec(specs.load(api))


class Bodies:
    """Reads request bodies and writes response bodies for one API."""

    def __init__(self, api: str) -> None:
        self.xml = _xml_codec(api)

    def negotiate(self, accept: str | None) -> str:
        """The media type to answer in, ASP.NET Web API style: the first acceptable type
        we write wins; `*/*`, an absent header or one naming nothing we write gives JSON."""
        for kind in _accept_ranges(accept or ""):
            if kind in ("*/*", "application/*"):
                return "application/json"
            if kind == "text/*":
                return "text/json"
            if kind in JSON_TYPES + XML_TYPES:
                return kind
        return "application/json"

    def read(self, raw: bytes, content_type: str | None, root: str) -> Body:
        """Parse a request body; raises UnsupportedMediaType or MalformedBody."""
        kind, params = media_type(content_type)
        if not raw:
            return Body(kind, None)
        if kind in JSON_TYPES:
            return Body(kind, _parse_json(_decode(raw, params)))
        if kind in XML_TYPES:
            try:
                return Body(kind, self.xml.loads(raw, root))
            except XmlError as exc:  # XmlSecurityError included
                raise MalformedBody(str(exc) or "malformed XML") from None
        if kind == FORM_TYPE:
            try:
                return Body(kind, parse_qsl(_decode(raw, params), keep_blank_values=True, strict_parsing=False))
            except ValueError as exc:
                raise MalformedBody(str(exc)) from None
        raise UnsupportedMediaType(kind or "application/octet-stream")

    def write(self, value: Any, root: str, media: str) -> bytes:
        """Serialise `value` as `media` (a type `negotiate` returned); raises XmlError for
        a value XML cannot carry (control characters)."""
        if media in XML_TYPES:
            return self.xml.dumps(value, root)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def write_or_json(self, value: Any, root: str, media: str) -> tuple[bytes, str]:
        """`write`, except that a value XML 1.0 cannot carry (a control character quoted in a
        message, say) is written as JSON instead: (the body, the media type it is in)."""
        try:
            return self.write(value, root, media), media
        except XmlError:
            return self.write(value, root, "application/json"), "application/json"


def _decode(raw: bytes, params: dict[str, str]) -> str:
    charset = params.get("charset") or "utf-8"
    try:
        if codecs.lookup(charset).name == "utf-8":
            charset = "utf-8-sig"  # tolerate a byte order mark, as .NET readers do
        return raw.decode(charset)
    except (LookupError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"cannot decode the body as {charset}: {exc.__class__.__name__}") from None


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MalformedBody(f"malformed JSON: {exc}") from None
