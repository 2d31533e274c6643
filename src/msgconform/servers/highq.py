"""The HighQ reference server: the Messages API's new conversation as seed 002 (and
notes/vendors.md) describe it, with every named fault and variant of faults.yaml.

    POST /{instance}/api/4/conversations/     a Conversation Common Object -> 201 + ids

Design, in the order a request meets it:
- Routing first (unknown path 404, wrong method 405), then the bearer token (401 "Not
  authorised"), then the body: a media type we do not read 415, a body that is not the
  documented shape (wrong types, malformed JSON or XML) 400 "Problem with parameters", a
  well-formed conversation we cannot deliver (no recipients, an unknown user, no message,
  an attachment that does not exist) 400 as well. Every refusal carries HighQ's error
  object: JSON `{"error": {"summary", "ref", "link"}}`, XML `<error>` holding them.
- Parsing is one walk over the body (`_Reader`) that knows the two kinds of problem apart:
  `_Malformed` (the spec's types are violated) and `_Invalid` (the shape is right, the
  content cannot be delivered). Faults act on exactly one kind.
- A one-element list may arrive as the object itself (HighQ's JSON mapping), so the reader
  takes either form; the answer writes lists (the `single-object-list` variant does not).
- State is a `_Store` per app: conversations and id counters, under one lock; at most
  `MAX_STORED_MESSAGES` conversations are kept (the oldest go first; no text is kept).
- Bodies and formats go through `_http.Bodies` (the codec for XML); this module only sees
  Python values. Nothing a client sends may produce a 5xx: a catch-all answers 400.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from msgconform.servers import _xmlstyle
from msgconform.servers._base import Endpoint, ReferenceServer, fault_set
from msgconform.servers._http import JSON_TYPES, XML_TYPES, MalformedBody, media_type
from msgconform.servers._limits import MAX_STORED_MESSAGES
from msgconform.servers.faults import FaultSet
from msgconform.xmlcodec import XmlError

API = "highq"
PATH = "/{instance}/api/4/conversations/"
_INT64 = range(-(2**63), 2**63)
BOMB_DELAY = 6.0  # seconds, longer than the suite's limit for HQ-SEC-002


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str | None = None  # the role a targets file gives this user, if any
    token: str | None = None


USERS: tuple[User, ...] = (
    User(3001, "Sam Sender", "sender", "hq-sender-token"),
    User(3002, "Rita Recipient", "recipient", "hq-recipient-token"),
    User(3003, "Colin Colleague", token="hq-colleague-token"),
    User(3004, "Petra Partner"),
)
BY_ID = {u.id: u for u in USERS}
_BY_TOKEN = {u.token: u for u in USERS if u.token}
SENDER, RECIPIENT = BY_ID[3001], BY_ID[3002]


def target_users() -> dict[str, dict[str, Any]]:
    """The users a targets file names for this server: role -> {id, name, token}."""
    return {u.role: {"id": u.id, "name": u.name, "token": u.token} for u in USERS if u.role}


# --- reading a conversation ---------------------------------------------------------------


class _Malformed(Exception):
    """The body violates the documented types (a client error in the request's syntax)."""


class _Invalid(Exception):
    """The body has the documented shape, but its content cannot be delivered."""


@dataclass
class _Conversation:
    recipients: list[int] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # {"html": str | None, "attachments": [...]}
    recipients_dropped: bool = False  # lenient: something of the wrong type was left out
    messages_dropped: bool = False


class _Reader:
    """Body value -> _Conversation. `lenient` (the lenient-types fault) drops what has the
    wrong type instead of raising _Malformed. `binder` (the binder-leniency variant) first
    converts as a Java platform does: numbers and numeric strings for an integer, any
    scalar for a string, null or "" for an absent member, text inside an XML wrapper as an
    empty one; a leaf it cannot convert is still refused."""

    def __init__(self, lenient: bool, binder: bool = False, xml: bool = False) -> None:
        self.lenient = lenient
        self.binder = binder
        self.xml = xml
        self.dropped = False

    def _wrapper(self, value: Any) -> Any:
        """binder: what a Java reader makes of a wrapper member (object expected)."""
        if not self.binder:
            return value
        if value is None or value == "" or (self.xml and isinstance(value, str)):
            return {}  # absent, empty, or only text inside the element: nothing in it
        return value

    def conversation(self, body: Any) -> _Conversation:
        result = _Conversation()
        body = self._typed(body, dict, "the body is not a conversation object") or {}
        self.dropped = False
        if self.binder:
            body = {k: self._wrapper(v) if k in ("recipients", "messages") else v for k, v in body.items()}
        if body.get("recipients") is not None:
            recipients = self._typed(body["recipients"], dict, "recipients is not an object") or {}
            users = (
                self._typed(self._wrapper(recipients.get("users", {})), dict, "recipients.users is not an object") or {}
            )
            for user in self._list(users, "user", "recipients.users.user"):
                userid = self._userid(user)
                if userid is not None:  # None: of the wrong type, dropped (lenient) or refused
                    result.recipients.append(userid)
        elif "recipients" in body:
            self._typed(None, dict, "recipients is null")
        result.recipients_dropped, self.dropped = self.dropped, False
        if body.get("messages") is not None:
            messages = self._typed(body["messages"], dict, "messages is not an object") or {}
            for message in self._list(messages, "message", "messages.message"):
                read = self._message(message)
                if read is not None:
                    result.messages.append(read)
        elif "messages" in body:
            self._typed(None, dict, "messages is null")
        result.messages_dropped = self.dropped
        return result

    def _typed(self, value: Any, kind: type, problem: str) -> Any:
        if isinstance(value, kind) and not isinstance(value, bool):
            return value
        if self.lenient:
            self.dropped = True
            return None
        raise _Malformed(problem)

    def _list(self, wrapper: dict[str, Any], key: str, where: str) -> list[Any]:
        """wrapper[key] as a list: absent is empty, a single object stands for a one-element list."""
        if key not in wrapper:
            return []
        value = wrapper[key]
        if isinstance(value, dict):
            return [value]
        if self.binder and value is None:
            return []
        if self.binder and isinstance(value, list):
            return [item for item in value if item is not None]  # a null item: no item
        return self._typed(value, list, f"{where} is not a list") or []

    def _userid(self, user: Any) -> int | None:
        user = self._typed(user, dict, "a recipients.users.user item is not an object")
        if user is None:
            return None
        if "userid" not in user:
            raise _Invalid("A recipient has no userid.")
        userid = user["userid"]
        if self.binder:
            if isinstance(userid, str) and userid.strip().lstrip("+-").isdigit():
                userid = int(userid.strip())
            elif isinstance(userid, float) and userid == userid and abs(userid) < 2**63:
                userid = int(userid)  # Jackson truncates a fraction
            elif userid is None or userid == "":
                raise _Invalid("A recipient has no userid.")
        if type(userid) is int and userid in _INT64:
            return userid
        return self._typed(None, int, f"userid {str(userid)[:60]!r} is not an integer")

    def _message(self, message: Any) -> dict[str, Any] | None:
        message = self._typed(message, dict, "a messages.message item is not an object")
        if message is None:
            return None
        html = message.get("html")
        if self.binder and isinstance(html, (int, float, bool)):
            html = str(html)  # a Java mapper writes any scalar into a String
        if html is not None:
            html = self._typed(html, str, "html is not a string")
        elif "html" in message:
            self._typed(None, str, "html is null")
        attachments: list[Any] = []
        if "attachments" in message:
            wrapper = self._typed(self._wrapper(message["attachments"]), dict, "attachments is not an object") or {}
            for attachment in self._list(wrapper, "attachment", "attachments.attachment"):
                attachment = self._typed(attachment, dict, "an attachment is not an object")
                if attachment is None:
                    continue
                if "id" not in attachment:
                    raise _Invalid("An attachment has no id.")
                value = attachment["id"]
                if self.binder and isinstance(value, (float, bool)):
                    value = str(value)
                if not isinstance(value, (str, int)) or isinstance(value, bool):
                    value = self._typed(None, str, "an attachment id is not a string or an integer")
                if value is not None:
                    attachments.append(value)
        return {"html": html, "attachments": attachments}


# --- state ----------------------------------------------------------------------------------


@dataclass
class _Store:
    large_ids: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    conversations: dict[int, tuple[int, tuple[int, ...], tuple[int, ...]]] = field(default_factory=dict)
    issued: set[int] = field(default_factory=set)
    counter: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(20261122))

    def new_id(self) -> int:
        """An id never issued before (call with the lock held)."""
        if self.large_ids:
            new = self.rng.randrange(2**32 + 1, 2**53)
            while new in self.issued:
                new = self.rng.randrange(2**32 + 1, 2**53)
        else:
            new = len(self.issued) + 1
        self.issued.add(new)
        return new


# --- the application ------------------------------------------------------------------------


class _Server(ReferenceServer):
    API = API

    def new_store(self) -> _Store:
        return _Store(large_ids=self.faults.on("large-ids"))

    # -- responses

    def respond(self, body: bytes, status: int, media: str, headers: dict[str, str] | None = None) -> Response:
        """A response with our own Content-Type: no parameters, unless `charset-params` is on."""
        content_type = f"{media}; charset=UTF-8" if self.faults.on("charset-params") else media
        return Response(body, status, {**(headers or {}), "Content-Type": content_type})

    def error(self, request: Request, status: int, summary: str, headers: dict[str, str] | None = None) -> Response:
        if status == 400 and self.faults.on("bad-input-422"):
            status = 422
        if self.faults.on("error-body-text"):
            return self.respond(summary.encode(), status, "text/plain", headers)
        with self.store.lock:
            self.store.counter += 1
            number = 7_340_000 + self.store.counter
        ref: int | str = number if self.faults.on("numeric-ref") else f"{number:x}"
        instance = request.path_params.get("instance", "")
        detail = {"summary": summary, "ref": ref, "link": f"{_base(request)}/{instance}/help/errors?ref={ref}"}
        if self.faults.on("error-summary-only"):
            detail = {"summary": summary}
        media = self.bodies.negotiate(request.headers.get("accept"))
        try:
            if media in XML_TYPES:
                return self.respond(self.bodies.write(detail, "ErrorDetail", media), status, media, headers)
        except XmlError:  # a summary quoting a character XML cannot carry
            media = "application/json"
        return self.respond(self.bodies.write({"error": detail}, "Error", media), status, media, headers)

    def problem(self, request: Request, exc: Exception) -> Response:
        """The answer to a body we cannot use (_Malformed, _Invalid, or unparseable)."""
        summary = f"Problem with parameters: {exc}"
        if isinstance(exc, _Invalid) and self.faults.on("validation-403"):
            return self.error(request, 403, f"Validation failed: {exc}")
        if not isinstance(exc, _Invalid) and self.faults.on("500-on-malformed"):
            return self.error(request, 500, "Internal error occurred")
        return self.error(request, 400, summary)

    def created(self, request: Request, conversation_id: int, message_ids: list[int]) -> Response:
        on = self.faults.on
        media = self.bodies.negotiate(request.headers.get("accept"))
        if media in XML_TYPES and on("xml-served-as-json"):
            media = "application/json"
        if on("one-messageid-for-many"):
            message_ids = message_ids[:1]
        messages: list[dict[str, Any]] = [] if on("no-message-ids") else [{"messageid": m} for m in message_ids]
        if on("extra-fields"):
            messages = [{**m, "createddate": "2026-11-22T10:00:00Z"} for m in messages]
        value: dict[str, Any] = {"conversationid": conversation_id, "messages": {"message": messages}}
        if on("no-conversation-id"):
            del value["conversationid"]
        if on("extra-fields"):
            value["subject"] = ""
        if media in XML_TYPES:
            body = self.bodies.xml.dumps(value, "ConversationCreated", pretty=not on("xml-no-declaration"))
            if on("xml-no-declaration"):
                body = body.split(b"?>", 1)[1].lstrip()
            if on("xml-wrong-root"):
                body = body.replace(b"<conversation>", b"<conversationResponse>", 1)
                body = body.replace(b"</conversation>", b"</conversationResponse>", 1)
        else:
            if on("json-ids-as-strings"):
                value = _ids_as_strings(value)
            if on("single-object-list") and len(messages) == 1:
                value["messages"]["message"] = value["messages"]["message"][0]
            body = self.bodies.write(value, "ConversationCreated", media)
            if on("json-text-plain"):
                media = "text/plain"
        status = 202 if on("success-202") else 200 if on("success-200") else 201
        return self.respond(body, status, media)

    # -- the endpoint

    def caller(self, request: Request) -> User | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user = _BY_TOKEN.get(token.strip()) if scheme.lower() == "bearer" else None
        if user is None and self.faults.on("auth-ignored"):
            return SENDER
        return user

    async def endpoint(self, request: Request) -> Response:
        if request.method != "POST":
            return self.error(request, 405, f"Method {request.method} is not allowed here.", {"Allow": "POST"})
        user = self.caller(request)
        if user is None:
            return self.error(request, 401, "Not authorised", {"WWW-Authenticate": "Bearer"})
        try:
            return await self.create(request, user)
        except Exception:  # noqa: BLE001 - by contract no input may cause a 5xx
            return self.error(request, 400, "Problem with parameters: the request could not be processed.")

    async def create(self, request: Request, user: User) -> Response:
        content_type = request.headers.get("content-type")
        kind = media_type(content_type)[0]
        if kind not in JSON_TYPES + XML_TYPES:
            return self.error(request, 415, f"The media type '{kind or 'none'}' is not supported.")
        if (kind in JSON_TYPES and self.faults.on("json-body-rejected")) or (
            kind in XML_TYPES and self.faults.on("xml-body-rejected")
        ):
            return self.error(request, 400, f"Problem with parameters: {kind} bodies are not read.")
        lenient = self.faults.on("lenient-types")
        raw = await request.body()
        if kind in XML_TYPES and b"<!DOCTYPE" in raw:
            raw = await self.dtd(raw)
        try:
            try:
                value = self.bodies.read(raw, content_type, "Conversation").value
            except MalformedBody as exc:
                if not lenient:
                    raise _Malformed(str(exc)) from None
                value = {}
            conversation = _Reader(lenient, self.faults.on("binder-leniency"), kind in XML_TYPES).conversation(value)
            if lenient:
                if conversation.recipients_dropped and not conversation.recipients:
                    conversation.recipients = [RECIPIENT.id]
                if conversation.messages_dropped and not conversation.messages:
                    conversation.messages = [{"html": "", "attachments": []}]
            self.validate(conversation)
        except (_Malformed, _Invalid) as exc:
            return self.problem(request, exc)
        with self.store.lock:
            conversation_id = self.store.new_id()
            message_ids = [self.store.new_id() for _ in conversation.messages]
            if len(message_ids) > 1 and self.faults.on("shared-messageid"):
                message_ids = [message_ids[0]] * len(message_ids)
            recipients = tuple(dict.fromkeys(conversation.recipients))
            self.store.conversations[conversation_id] = (user.id, recipients, tuple(message_ids))
            while len(self.store.conversations) > MAX_STORED_MESSAGES:  # the oldest go first
                self.store.conversations.pop(next(iter(self.store.conversations)))
        return self.created(request, conversation_id, message_ids)

    async def dtd(self, raw: bytes) -> bytes:
        """What this server's XML parser does with a DTD (`_xmlstyle.dtd_as_faults_say`)."""
        return await _xmlstyle.dtd_as_faults_say(self.faults, raw, BOMB_DELAY)

    def validate(self, conversation: _Conversation) -> None:
        """What makes a well-formed conversation undeliverable (raises _Invalid)."""
        skip = self.faults.on("validation-skipped")
        if not conversation.recipients and not skip:
            raise _Invalid("At least one recipient is required.")
        unknown = [r for r in conversation.recipients if r not in BY_ID]
        if unknown and not skip:
            raise _Invalid(f"No user with id {unknown[0]} exists.")
        if not conversation.messages and not skip:
            raise _Invalid("At least one message is required.")
        for message in conversation.messages:
            if message["html"] is None and not skip and not self.faults.on("message-without-html"):
                raise _Invalid("A message has no html body.")
            if message["attachments"]:  # this server holds no files: every id is unknown
                raise _Invalid(f"No file with id {message['attachments'][0]} exists.")

    async def no_route(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 404:
            return self.error(request, 404, f"No resource matches {request.url.path}.")
        return self.error(request, status, "The request could not be processed.")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _ids_as_strings(value: dict[str, Any]) -> dict[str, Any]:
    """Fault json-ids-as-strings: every id written as a JSON string."""
    out = dict(value)
    if "conversationid" in out:
        out["conversationid"] = str(out["conversationid"])
    out["messages"] = {"message": [{**m, "messageid": str(m["messageid"])} for m in value["messages"]["message"]]}
    return out


def create_app(faults: Iterable[str] | FaultSet = ()) -> Any:
    """A fresh HighQ server (own state) with the named faults and variants on."""
    server = _Server(fault_set(faults, API))
    return Starlette(
        routes=[Route(PATH, Endpoint(server.endpoint))], exception_handlers={HTTPException: server.no_route}
    )
