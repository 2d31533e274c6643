"""The itslearning reference server: the Personal REST API's messages as seeds 000 and 003
(and notes/vendors.md) describe them, with every named fault and variant of faults.yaml.

    POST   restapi/personal/messages/send/v1              send a MessageToSend -> 201 + Location
    GET    restapi/personal/messages/{messageId}/v1       one Message, as the caller sees it
    GET    restapi/personal/messages/recipients/search/v1 persons the caller may write to

Design, in the order a request meets it:
- Routing first (unknown path 404, wrong method 405 with Allow), then the bearer token
  (401), then the body (415 for a media type we do not read, 400 for anything invalid),
  as ASP.NET Web API does. Errors are ASP.NET error objects `{"Message": ...}`.
- State is a `_Store` per app: messages plus one `_View` per (message, person) holding
  that person's IsRead/IsReplied/IsForwarded. Replying sets IsReplied on the replier's
  own copy. One lock guards it all. At most `MAX_STORED_MESSAGES` messages and
  `MAX_STORED_TEXT_BYTES` of subjects and texts are kept; the oldest go first.
- Bodies and formats go through `_http.Bodies`; this module only sees Python values.
- Faults and variants are `self.faults.on("name")` tests at the one place each acts.
- Nothing a client sends may produce a 5xx: every handler runs inside a catch-all that
  answers 400 (only the `500-on-malformed` fault answers 500, on purpose).
"""

from __future__ import annotations

import html
import random
import re
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cached_property
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from msgconform import specs
from msgconform.servers import _xmlstyle
from msgconform.servers._base import Endpoint, ReferenceServer, fault_set
from msgconform.servers._http import FORM_TYPE, XML_TYPES, MalformedBody, UnsupportedMediaType, media_type
from msgconform.servers._limits import MAX_STORED_MESSAGES, MAX_STORED_TEXT_BYTES
from msgconform.servers.faults import FaultSet
from msgconform.xmlcodec import XmlCodec

API = "itslearning"
PREFIX = "/restapi/personal/messages"
ENTITIES_NS = "http://schemas.datacontract.org/2004/07/Itslearning.RestApi.Entities"
BOMB_DELAY = 6.0  # seconds, longer than the suite's limit for ITS-SEC-002


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    last_name: str
    role: str | None = None  # the role a targets file gives this person, if any
    token: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


USERS: tuple[Person, ...] = (
    Person(1001, "Ada", "Sender", "sender", "sender-token"),
    Person(1002, "Rita", "Recipient", "recipient", "recipient-token"),
    Person(1003, "Bruno", "Bcc", "bcc", "bcc-token"),
    Person(1004, "Olga", "Outsider", "outsider", "outsider-token"),
    Person(1005, "Adam", "Lovelace"),
    Person(1006, "Ritva", "Berg"),
    Person(1007, "Sverre", "Senderud"),
    Person(1008, "Brunhild", "Olsen"),
)
PERSONS = {p.id: p for p in USERS}
_BY_TOKEN = {p.token: p for p in USERS if p.token}
SENDER = PERSONS[1001]
RECIPIENT = PERSONS[1002]


def target_users() -> dict[str, dict[str, Any]]:
    """The users a targets file names for this server: role -> {id, name, token}."""
    return {p.role: {"id": p.id, "name": p.full_name, "token": p.token} for p in USERS if p.role}


# --- state ----------------------------------------------------------------------------------


@dataclass
class _Message:
    id: int
    sender: int
    to: tuple[int, ...]
    bcc: tuple[int, ...]
    subject: str | None
    text: str | None
    sent: datetime
    reply_to: int | None = None  # the ReplyToMessageId it was sent with

    def participants(self) -> set[int]:
        return {self.sender, *self.to, *self.bcc}


def _text_size(message: _Message) -> int:
    return sum(len(str(part).encode("utf-8", "replace")) for part in (message.subject, message.text) if part)


@dataclass
class _View:
    """One person's copy of a message."""

    is_read: bool = False
    replied: datetime | None = None
    forwarded: datetime | None = None
    deleted: bool = False


@dataclass
class _Store:
    large_ids: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: dict[int, _Message] = field(default_factory=dict)
    views: dict[tuple[int, int], _View] = field(default_factory=dict)
    issued: set[int] = field(default_factory=set)
    rng: random.Random = field(default_factory=lambda: random.Random(20261122))
    text_bytes: int = 0  # UTF-8 size of the subjects and texts kept (servers._limits)

    def new_id(self) -> int:
        """A message id never issued before (call with the lock held)."""
        if not self.large_ids:
            new = len(self.issued) + 1
        else:
            new = self.rng.randrange(2**32 + 1, 2**53)
            while new in self.issued:
                new = self.rng.randrange(2**32 + 1, 2**53)
        self.issued.add(new)
        return new

    def keep(self, message: _Message) -> None:
        """Store a message; the oldest are forgotten past the limits (call with the lock held)."""
        self.messages[message.id] = message
        self.text_bytes += _text_size(message)
        while len(self.messages) > 1 and (
            len(self.messages) > MAX_STORED_MESSAGES or self.text_bytes > MAX_STORED_TEXT_BYTES
        ):
            oldest = self.messages.pop(next(iter(self.messages)))
            self.text_bytes -= _text_size(oldest)
            for person in oldest.participants():
                self.views.pop((oldest.id, person), None)

    def view(self, message_id: int, person_id: int, *, any_user: bool = False) -> tuple[_Message, _View] | None:
        """The person's copy, or None if the person may not see it (call with the lock held)."""
        message = self.messages.get(message_id)
        if message is None or (person_id not in message.participants() and not any_user):
            return None
        return message, self.views.setdefault((message_id, person_id), _View())


# --- validation -----------------------------------------------------------------------------

_INT64 = range(-(2**63), 2**63)
_LISTS = ("ToPersonIds", "BccPersonIds")
_IDS = ("ReplyToMessageId", "ForwardToMessageId")
_STRINGS = ("Subject", "Text")
_FIELDS = {name.lower(): name for name in _LISTS + _IDS + _STRINGS}


def _is_int(value: Any) -> bool:
    return type(value) is int and value in _INT64


def _field_error(name: str, value: Any) -> str | None:
    """Why `value` cannot be field `name` of MessageToSend, or None when it can."""
    if value is None:
        return None
    if name in _LISTS:
        if not isinstance(value, list):
            return f"Cannot convert the value to type 'List<Int32>' (path '{name}')."
        bad = next((i for i, item in enumerate(value) if not _is_int(item)), None)
        if bad is None:
            return None
        return f"Could not convert item {bad} to type 'Int32' (path '{name}[{bad}]')."
    if name in _IDS:
        ok = _is_int(value)
        return None if ok else f"Could not convert the value to type 'Nullable<Int64>' (path '{name}')."
    return None if isinstance(value, str) else f"Could not convert the value to type 'String' (path '{name}')."


def _from_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form pairs -> a MessageToSend-shaped dict (`ToPersonIds`, `ToPersonIds[]`, `ToPersonIds[0]`)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        name = _FIELDS.get(re.sub(r"\[\d*\]$", "", key).lower())
        if name is None:
            continue
        number: Any = int(value) if re.fullmatch(r"\s*[+-]?\d{1,19}\s*", value) else value
        if name in _LISTS:
            out.setdefault(name, []).append(number)
        elif name in _IDS:
            out[name] = None if value == "" else number
        else:
            out[name] = value
    return out


def _as_binder_reads(name: str, value: Any, xml: bool) -> Any:
    """Variant binder-leniency: `value` as Json.NET or the DataContractSerializer would
    convert it for field `name` (written apart from the suite's own binder profiles)."""

    def number(item: Any) -> Any:
        if isinstance(item, str) and re.fullmatch(r"\s*[+-]?\d{1,19}\s*", item):
            return int(item)
        if isinstance(item, float) and item.is_integer() and not xml:
            return int(item)
        return item

    if value == "" and not xml and name in _LISTS + _IDS:
        return None  # Json.NET reads "" as null for a nullable type
    if name in _LISTS:
        if isinstance(value, str) and xml:
            return []  # text inside the collection element: no items
        return [number(item) for item in value] if isinstance(value, list) else value
    if name in _IDS:
        return number(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not xml:
        return str(value)  # Json.NET writes a number into a string member
    if isinstance(value, bool) and not xml:
        return "True" if value else "False"
    return value


def _skipped_by_datacontract(problems: list[str]) -> set[str]:
    """Variant binder-leniency: members a DataContract reader skips (out of the documented
    order), from the codec's findings."""
    skipped = set()
    for problem in problems:
        if "out of documented order" in problem:  # a repeat: the codec keeps the first, as DCS does
            path = problem.split(":", 1)[0].split("/")
            if len(path) == 3:  # /MessageToSend/Member
                skipped.add(path[2])
    return skipped


def _check_message(raw: Any, lenient: bool = False, xml: bool = False) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Split a parsed body into the valid fields and ASP.NET-style ModelState errors.
    `lenient` (variant binder-leniency) converts as the platform's binders do first."""
    if raw is None:
        return {}, {"message": ["The message field is required."]}
    if not isinstance(raw, dict):
        kind = type(raw).__name__
        return {}, {"message": [f"Cannot deserialize a JSON {kind} into type 'MessageToSend'."]}
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in raw.items():
        name = _FIELDS.get(str(key).lower())
        if name is None:
            continue  # Json.NET ignores members it does not know
        if lenient:
            value = _as_binder_reads(name, value, xml)
        problem = _field_error(name, value)
        if problem:
            errors[f"message.{name}"] = [problem]
        else:
            clean[name] = value
    return clean, errors


# --- rendering ------------------------------------------------------------------------------

_BLOCK_TAG = re.compile(r"<\s*/?\s*(br|p|div|li|ul|ol|tr|td|th|h[1-6]|table|blockquote)\b[^>]*>", re.I)
_ANY_TAG = re.compile(r"<[^>]*>")


_ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.I)


def preview(text: str | None, *, drop_entities: bool = False, width: int = 100) -> str | None:
    """The first `width` characters of `text`, stripped of HTML tags and entities.

    Entities are decoded (`&amp;` -> `&`) or, with `drop_entities`, removed; a preview
    that had to be cut then ends with "..." (both are readings the document allows).
    """
    if text is None:
        return None
    stripped = _ANY_TAG.sub("", _BLOCK_TAG.sub(" ", text))
    plain = " ".join((_ENTITY.sub("", stripped) if drop_entities else html.unescape(stripped)).split())
    if drop_entities and len(plain) > width:
        return plain[:width] + "..."
    return plain[:width]


def _utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(moment: datetime | None) -> str | None:
    """The same instant at +02:00 (what the date faults write instead of UTC)."""
    return None if moment is None else moment.astimezone(timezone(timedelta(hours=2))).isoformat()


# --- the application ------------------------------------------------------------------------

Handler = Callable[[Request, Person], Awaitable[Response]]


class _Server(ReferenceServer):
    API = API

    def new_store(self) -> _Store:
        return _Store(large_ids=self.faults.on("large-ids"))

    # -- responses

    def respond(self, body: bytes, status: int, media: str, headers: dict[str, str] | None = None) -> Response:
        """A response with our own Content-Type (Starlette would add a charset to text/*).

        JSON carries `; charset=utf-8` as ASP.NET writes it; XML declares nothing (the
        document's own encoding, UTF-8, applies) unless the `charset-params` variant is on.
        """
        charset = media not in XML_TYPES or self.faults.on("charset-params")
        content_type = f"{media}; charset=utf-8" if charset else media
        return Response(body, status, {**(headers or {}), "Content-Type": content_type})

    def reply(self, request: Request, status: int, value: Any, root: str, headers: dict | None = None) -> Response:
        media = self.bodies.negotiate(request.headers.get("accept"))
        if media in XML_TYPES and self.faults.on("xml-served-as-json"):
            media = "application/json"
        if media in XML_TYPES:
            return self.respond(self.write_xml(value, root), status, media, headers)
        body = self.bodies.write(value, root, media)
        return self.respond(body, status, media, headers)

    def write_xml(self, value: Any, root: str) -> bytes:
        """XML as the codec writes it, with this server's XML faults and variants applied."""
        on = self.faults.on
        if on("xml-omit-nil"):
            value = _xmlstyle.without_nils(value)
        if on("xml-subject-truncated") and isinstance(value, dict) and isinstance(value.get("Subject"), str):
            value = {**value, "Subject": value["Subject"][:20]}
        codec = self.alphabetical if on("xml-alphabetical") else self.bodies.xml
        body = codec.dumps(value, root, pretty=not on("xml-compact"))
        if on("xml-root-namespace") and root == "Message":
            body = _xmlstyle.root_in_namespace(body, ENTITIES_NS)
        if on("xml-etree-style"):
            body = _xmlstyle.etree_style(body)
        if on("xml-declaration"):
            body = _xmlstyle.with_declaration(body)
        return body

    @cached_property
    def alphabetical(self) -> XmlCodec:
        return _xmlstyle.alphabetical_codec(specs.load(API))

    def error(
        self,
        request: Request,
        status: int,
        message: str,
        model_state: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        detail: str | None = None,
    ) -> Response:
        if status == 400 and self.faults.on("bad-input-422"):
            status = 422
        if status == 404 and self.faults.on("empty-404-body"):
            return Response(b"", status, headers)
        if 400 <= status < 500 and self.faults.on("error-body-text"):
            prose = " ".join([message, *(m for msgs in (model_state or {}).values() for m in msgs)])
            return self.respond(prose.encode(), status, "text/plain", headers)
        value: dict[str, Any] = {"Message": message}
        if detail:
            value["MessageDetail"] = detail
        if model_state:
            value["ModelState"] = model_state
        body, media = self.bodies.write_or_json(value, "ApiError", self.bodies.negotiate(request.headers.get("accept")))
        return self.respond(body, status, media, headers)

    def invalid(self, request: Request, model_state: dict[str, list[str]]) -> Response:
        return self.error(request, 400, "The request is invalid.", model_state)

    def not_found(self, request: Request, message_id: int) -> Response:
        return self.error(request, 404, f"No message with id {message_id} was found.")

    # -- request pieces

    def caller(self, request: Request) -> Person | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            token = request.query_params.get("access_token", "")
        person = _BY_TOKEN.get(token.strip())
        if person is None and self.faults.on("auth-ignored"):
            return SENDER
        return person

    def unauthorized(self, request: Request) -> Response:
        return self.error(
            request, 401, "Authorization has been denied for this request.", headers={"WWW-Authenticate": "Bearer"}
        )

    def message_id(self, request: Request) -> int:
        """The path's messageId; a 400 answer (as ASP.NET's binding gives) if not an Int64."""
        text = request.path_params["messageId"]
        if re.fullmatch(r"[+-]?\d{1,19}", text) and int(text) in _INT64:
            return int(text)
        detail = (
            "The parameters dictionary contains a null entry for parameter 'messageId' of "
            "non-nullable type 'System.Int64'."
        )
        raise _Answer(self.error(request, 400, "The request is invalid.", detail=detail))

    def crash(self) -> Response:
        """What the `500-on-malformed` fault answers: ASP.NET's unhandled-exception error."""
        return self.respond(b'{"Message":"An error has occurred."}', 500, "application/json")

    # -- endpoints

    async def send(self, request: Request, person: Person) -> Response:
        content_type = request.headers.get("content-type")
        if media_type(content_type)[0] == "text/json" and self.faults.on("send-rejects-text-json"):
            return self.unsupported(request, "text/json")
        if media_type(content_type)[0] in XML_TYPES and self.faults.on("send-rejects-xml"):
            return self.unsupported(request, media_type(content_type)[0])
        raw_body = await request.body()
        if media_type(content_type)[0] in XML_TYPES and b"<!DOCTYPE" in raw_body:
            raw_body = await self.dtd(raw_body)
        message: dict[str, Any]
        try:
            body = self.bodies.read(raw_body, content_type, "MessageToSend")
        except UnsupportedMediaType as exc:
            return self.unsupported(request, exc.media_type)
        except MalformedBody as exc:
            raw, message, errors = None, {}, {"message": [str(exc)]}
        else:
            raw = _from_form(body.value) if body.media_type == FORM_TYPE and body.value else body.value
            lenient = self.faults.on("binder-leniency")
            xml = body.media_type in XML_TYPES
            if lenient and xml and isinstance(raw, dict):
                skipped = _skipped_by_datacontract(self.bodies.xml.problems(raw_body, "MessageToSend"))
                raw = {k: v for k, v in raw.items() if k not in skipped}
            message, errors = _check_message(raw, lenient, xml)
        if errors and not self.faults.on("lenient-types"):  # lenient: keep what fits, drop the rest
            return self.crash() if self.faults.on("500-on-malformed") else self.invalid(request, errors)
        null_reply = isinstance(raw, dict) and any(
            str(k).lower() == "replytomessageid" and v is None for k, v in raw.items()
        )
        if null_reply and self.faults.on("reply-null-rejected"):
            return self.invalid(request, {"message.ReplyToMessageId": ["The value 'null' is not valid."]})
        return self.deliver(request, person, message)

    async def dtd(self, raw: bytes) -> bytes:
        """What this server's XML parser does with a DTD (`_xmlstyle.dtd_as_faults_say`)."""
        return await _xmlstyle.dtd_as_faults_say(self.faults, raw, BOMB_DELAY)

    def unsupported(self, request: Request, media: str) -> Response:
        return self.error(
            request, 415, f"The request entity's media type '{media}' is not supported for this resource."
        )

    def deliver(self, request: Request, person: Person, message: dict[str, Any]) -> Response:
        def ids(name: str) -> list[int]:
            return list(dict.fromkeys(message.get(name) or []))

        to, bcc = ids("ToPersonIds"), ids("BccPersonIds")
        if self.faults.on("lenient-types"):
            to = [i for i in to if i in PERSONS]
            bcc = [i for i in bcc if i in PERSONS]
            if not to and not bcc:
                to = [RECIPIENT.id]
        bcc = [i for i in bcc if i not in to]
        if not to and not bcc:
            return self.invalid(request, {"message.ToPersonIds": ["The message has no recipients."]})
        unknown = [i for i in to + bcc if i not in PERSONS]
        if unknown:
            return self.invalid(request, {"message.ToPersonIds": [f"No person with id {unknown[0]} exists."]})
        for name, fault in (("ReplyToMessageId", "reply-rejected"), ("ForwardToMessageId", "forward-rejected")):
            if message.get(name) is not None and self.faults.on(fault):
                return self.invalid(request, {f"message.{name}": ["This kind of message cannot be sent."]})
        now = datetime.now(UTC).replace(microsecond=0)
        with self.store.lock:
            marks = []
            for name, attribute in (("ReplyToMessageId", "replied"), ("ForwardToMessageId", "forwarded")):
                original = message.get(name)
                if original is None:
                    continue
                found = self.store.view(original, person.id)
                if found is None:
                    if self.faults.on("reply-unknown-404"):
                        return self.not_found(request, original)
                    problem = f"No message with id {original} was found."
                    return self.invalid(request, {f"message.{name}": [problem]})
                marks += self.marks(found[0], person, attribute, now)
            for view, attribute, moment in marks:
                setattr(view, attribute, moment)
            new_id = self.store.new_id()
            self.store.keep(
                _Message(
                    new_id,
                    person.id,
                    tuple(to),
                    tuple(bcc),
                    message.get("Subject"),
                    message.get("Text"),
                    now,
                    message.get("ReplyToMessageId"),
                )
            )
            self.store.views[(new_id, person.id)] = _View(is_read=True)
            shown_id = self.store.new_id() if self.faults.on("location-wrong-id") else new_id
        headers = {}
        if not self.faults.on("send-no-location"):
            path = f"{PREFIX}/{shown_id}/v1"
            headers["Location"] = path if self.faults.on("relative-location") else self.base(request) + path
        status = 200 if self.faults.on("send-200") else 201
        return Response(b"", status, headers)

    def marks(
        self, original: _Message, replier: Person, attribute: str, now: datetime
    ) -> list[tuple[_View, str, datetime]]:
        """The copies of `original` that a reply (`replied`) or forward (`forwarded`) by
        `replier` marks, with the attribute and the time: faithfully, the replier's own copy."""
        on = self.faults.on
        people = [replier.id]
        if on("flags-shared"):
            people = sorted(original.participants())
        elif attribute == "replied" and on("reply-flags-wrong-view"):
            people = [original.sender]
        attributes = {attribute}
        if attribute == "replied" and on("reply-sets-forwarded"):
            attributes.add("forwarded")
        if attribute == "forwarded" and on("forward-sets-replied"):
            attributes.add("replied")
        if attribute == "forwarded" and on("forward-flag-missing"):
            attributes.discard("forwarded")
        if attribute == "replied" and on("reply-date-shifted"):
            now -= timedelta(hours=1)  # a local time converted to UTC twice
        views = [self.store.views.setdefault((original.id, p), _View()) for p in people]
        return [(view, name, now) for view in views for name in sorted(attributes)]

    def hidden(self, message: _Message, person: Person) -> bool:
        """Faults that hide a message from someone it was sent to (the sender always sees it)."""
        on = self.faults.on
        if person.id == message.sender:
            return False
        return (
            (on("recipient-cannot-read") and person.id in message.to)
            or (on("bcc-cannot-read") and person.id in message.bcc)
            or (on("reply-not-delivered") and message.reply_to is not None)
        )

    async def get(self, request: Request, person: Person) -> Response:
        message_id = self.message_id(request)
        with self.store.lock:
            found = self.store.view(message_id, person.id, any_user=self.faults.on("no-access-check"))
            if found is not None and self.hidden(found[0], person):
                found = None
            if found is None:
                if message_id in self.store.messages and self.faults.on("outsider-403"):
                    return self.error(request, 403, "Authorization has been denied for this request.")
                if message_id not in self.store.messages and self.faults.on("unknown-id-400"):
                    detail = f"Invalid message id {message_id}."
                    return self.error(request, 400, "The request is invalid.", detail=detail)
                return self.not_found(request, message_id)
            message, view = found
            if self.faults.on("get-marks-read") and person.id in message.to + message.bcc:
                view.is_read = True
            value = self.render(request, message, view, person)
        response = self.reply(request, 200, value, "Message")
        if self.faults.on("get-text-plain"):
            response.headers["content-type"] = "text/plain; charset=utf-8"
        return response

    async def put(self, request: Request, person: Person) -> Response:
        """put-delete variant: only IsRead can change (vendors.md)."""
        message_id = self.message_id(request)
        try:
            body = self.bodies.read(await request.body(), request.headers.get("content-type"), "Message")
        except UnsupportedMediaType as exc:
            return self.unsupported(request, exc.media_type)
        except MalformedBody as exc:
            return self.invalid(request, {"message": [str(exc)]})
        raw = body.value
        if not isinstance(raw, dict) or not isinstance(raw.get("IsRead", False), bool):
            return self.invalid(request, {"message.IsRead": ["Could not convert the value to type 'Boolean'."]})
        with self.store.lock:
            found = self.store.view(message_id, person.id)
            if found is None:
                return self.not_found(request, message_id)
            if "IsRead" in raw:
                found[1].is_read = raw["IsRead"]
        return Response(b"", 204)

    async def delete(self, request: Request, person: Person) -> Response:
        """put-delete variant: the message moves to the caller's deleted folder (still readable)."""
        message_id = self.message_id(request)
        with self.store.lock:
            found = self.store.view(message_id, person.id)
            if found is None:
                return self.not_found(request, message_id)
            found[1].deleted = True
        return Response(b"", 204)

    async def search(self, request: Request, person: Person) -> Response:
        text = next((v for k, v in request.query_params.multi_items() if k.lower() == "searchtext"), "").strip()
        if len(text) < 3 and not (text and self.faults.on("search-ignores-min-length")):
            return self.invalid(request, {"searchText": ["The search text must be at least 3 characters long."]})
        needle = text.casefold()

        def matches(p: Person) -> bool:
            if self.faults.on("search-whole-name-only"):
                return p.full_name.casefold() == needle
            return any(n.casefold().startswith(needle) for n in (p.first_name, p.last_name, p.full_name))

        found = [self.person(request, p) for p in USERS if p.id != person.id and matches(p)]
        return self.reply(request, 200, found, "ArrayOfPersonSimple")

    # -- entities

    @staticmethod
    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def person(self, request: Request, p: Person) -> dict[str, Any]:
        base = self.base(request)
        return {
            "PersonId": p.id,
            "FirstName": p.first_name,
            "LastName": p.last_name,
            "FullName": p.full_name,
            "ProfileUrl": f"{base}/Person/show.aspx?PersonId={p.id}",
            "AdditionalInfo": "",
            "ProfileImageUrl": f"{base}/images/profile/{p.id}.png",
            "ProfileImageUrlSmall": f"{base}/images/profile/{p.id}_small.png",
        }

    def render(self, request: Request, message: _Message, view: _View, viewer: Person) -> dict[str, Any]:
        """The Message entity as `viewer` sees it: their own flags; Bcc never shown."""
        on = self.faults.on
        base = self.base(request)
        received: str | None = _utc(message.sent)
        if on("date-local-offset"):
            received = _local(message.sent)
        last = _local if on("last-dates-local-offset") else _utc
        shown = [] if on("to-empty") else list(message.to) + (list(message.bcc) if on("bcc-leak") else [])
        sender = viewer if on("from-is-viewer") else PERSONS[message.sender]
        if on("preview-keeps-html"):
            preview_text = None if message.text is None else message.text[:100]
        else:
            preview_text = preview(
                message.text,
                drop_entities=on("preview-entities-removed"),
                width=40 if on("preview-entities-removed") else 100,
            )
        return {
            "Text": message.text,
            "To": [self.person(request, PERSONS[i]) for i in shown],
            "Attachments": [],
            "MessageId": str(message.id) if self.faults.on("messageid-as-string") else message.id,
            "From": self.person(request, sender),
            "DateReceived": received,
            "Subject": message.subject,
            "PreviewText": preview_text,
            "MessageUrl": f"{base}/Messages/View.aspx?MessageId={message.id}",
            "ContentUrl": f"{base}/Messages/Content.aspx?MessageId={message.id}",
            "HasAttachments": self.faults.on("has-attachments-true"),
            "IsRead": view.is_read,
            "IsForwarded": view.forwarded is not None,
            "LastForwardedDateTime": last(view.forwarded),
            "IsReplied": view.replied is not None and not on("reply-flag-missing"),
            "LastRepliedDateTime": last(view.replied),
        }

    # -- plumbing

    def resource(self, handlers: dict[str, Handler]) -> Endpoint:
        """One endpoint per path: 405 + Allow for a method it lacks, then 401 without a valid
        token, then the handler for the method, which never causes a 5xx."""
        allow = ", ".join(handlers)

        async def endpoint(request: Request) -> Response:
            handler = handlers.get(request.method)
            if handler is None:
                message = f"The requested resource does not support http method '{request.method}'."
                return self.error(request, 405, message, headers={"Allow": allow})
            person = self.caller(request)
            if person is None:
                return self.unauthorized(request)
            try:
                return await handler(request, person)
            except _Answer as answer:
                return answer.response
            except Exception:  # noqa: BLE001 - by contract no input may cause a 5xx
                return self.invalid(request, {"message": ["The request could not be processed."]})

        return Endpoint(endpoint)

    async def no_route(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status != 404:
            return self.error(request, status, "The request could not be processed.")
        message = f"No HTTP resource was found that matches the request URI '{request.url.path}'."
        return self.error(request, 404, message)


class _Answer(Exception):
    """Raised by a helper deep in a handler to answer at once (for example a bad messageId)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


_EXTRA_HEADERS = [
    (b"server", b"Microsoft-IIS/10.0"),
    (b"x-powered-by", b"ASP.NET"),
    (b"x-aspnet-version", b"4.0.30319"),
    (b"cache-control", b"no-cache"),
    (b"pragma", b"no-cache"),
    (b"expires", b"-1"),
]


def _with_extra_headers(app: Any) -> Any:
    """ASGI wrapper for the `extra-headers` variant."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def send_with_headers(event: dict) -> None:
            if event["type"] == "http.response.start":
                event = {**event, "headers": [*event.get("headers", []), *_EXTRA_HEADERS]}
            await send(event)

        await app(scope, receive, send_with_headers if scope["type"] == "http" else send)

    return wrapped


def create_app(faults: Iterable[str] | FaultSet = ()) -> Any:
    """A fresh itslearning server (own state) with the named faults and variants on."""
    faults = fault_set(faults, API)
    server = _Server(faults)
    message_methods: dict[str, Handler] = {"GET": server.get}
    if faults.on("put-delete"):
        message_methods |= {"PUT": server.put, "DELETE": server.delete}
    app = Starlette(
        routes=[
            Route(f"{PREFIX}/send/v1", server.resource({"POST": server.send})),
            Route(f"{PREFIX}/recipients/search/v1", server.resource({"GET": server.search})),
            Route(PREFIX + "/{messageId}/v1", server.resource(message_methods)),
        ],
        exception_handlers={HTTPException: server.no_route},
    )
    return _with_extra_headers(app) if faults.on("extra-headers") else app
