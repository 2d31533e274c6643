"""The CompleteEmpire reference server: send a message as seed 001 (an ASP.NET Web API 2
help page) describes it, with every named fault and variant of faults.yaml.

    POST /api/messages/sendmessage     a MessageComposeModel -> 200 + the saved model

Design, in the order a request meets it:
- Routing (unknown path 404, another method 405), then the bearer token (401 with
  ASP.NET's "Authorization has been denied for this request."), then the body's media type
  (415 for one the page does not list), then binding, then validation.
- Binding is what ASP.NET does: Json.NET for JSON, DataContractSerializer for XML (order-
  sensitive: an out-of-order or unknown element is skipped, never refused), jQuery-style
  keys for a form. The conversions are those of `msgconform.servers._dotnet_bind`; a value the
  binder cannot convert is a ModelState error and the answer is 400 with the error object
  ({"Message": "The request is invalid.", "ModelState": {...}}, XML root Error).
- Validation (the page states none; these are the natural ones): at least one recipient,
  each an account this server knows; sender_account_id, when set, the caller's own; no
  attachments (this server holds no files); parent_id, when set, a message the caller
  sent or received. All 400.
- The answer is undocumented; this server's choice is 200 with the saved model, carrying
  the new id, the caller's subscription_id, a row version ts, created_date (UTC) and
  can_delete. Variants take the others: 201 with a Location, 204 without a body, 200 with
  only the id. Members a client sets that the server generates are overwritten.
- Content negotiation as ASP.NET Web API: the Accept header decides, JSON by default.
- Ids come from a seeded generator, so a run sends and receives the same ids every time
  (replies name the ids answered earlier, and cassettes must stay current).
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from msgconform import specs
from msgconform.servers import _dotnet_bind as dotnet_binder
from msgconform.servers._base import Endpoint, ReferenceServer, fault_set
from msgconform.servers._http import FORM_TYPE, JSON_TYPES, XML_TYPES, MalformedBody, media_type
from msgconform.servers.faults import FaultSet
from msgconform.xmlcodec import XmlError

API = "completeempire"
PATH = "/api/messages/sendmessage"
MODEL = "MessageComposeModel"
SERIALIZATION_NS = "http://schemas.microsoft.com/2003/10/Serialization/"
SERVER_MEMBERS = ("id", "subscription_id", "ts", "created_date", "can_delete")


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    email: str
    subscription: str
    role: str | None = None
    token: str | None = None


ACCOUNTS: tuple[Account, ...] = (
    Account(
        "5d0e3f2a-8a4b-4c61-9b7e-2f1c0a9d4e11",
        "Sam Sender",
        "sam@example.test",
        "0f6b2d8e-1c3a-4e5f-8a7b-9c0d1e2f3a4b",
        "sender",
        "ce-sender-token",
    ),
    Account(
        "9b2c7d14-3e5f-4a86-b0c9-71d2e8f3a605",
        "Rita Recipient",
        "rita@example.test",
        "0f6b2d8e-1c3a-4e5f-8a7b-9c0d1e2f3a4b",
        "recipient",
        "ce-recipient-token",
    ),
    Account(
        "e4a1b3c5-d6e7-48f9-a0b1-c2d3e4f5a6b7",
        "Colin Colleague",
        "colin@example.test",
        "0f6b2d8e-1c3a-4e5f-8a7b-9c0d1e2f3a4b",
        token="ce-colleague-token",
    ),
)
BY_ID = {a.id: a for a in ACCOUNTS}
_BY_TOKEN = {a.token: a for a in ACCOUNTS if a.token}


def target_users() -> dict[str, dict[str, Any]]:
    """The users a targets file names for this server: role -> {id, email, name, token}."""
    return {a.role: {"id": a.id, "email": a.email, "name": a.name, "token": a.token} for a in ACCOUNTS if a.role}


def _without_namespaces(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as an XmlSerializer-style reader sees it (fault xml-no-namespace): no namespaces."""
    spec = copy.deepcopy(spec)

    def strip(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("xml"), dict):
                node["xml"].pop("namespace", None)
            for value in node.values():
                strip(value)
        elif isinstance(node, list):
            for value in node:
                strip(value)

    strip(spec)
    return spec


def form_value(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """jQuery-style form keys (to[0][account_id]=...) as the nested value ASP.NET binds."""
    value: dict[str, Any] = {}
    for key, text in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = value
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            if parts:
                node[parts[-1]] = text
    return _lists(value)


def _lists(node: Any) -> Any:
    """Dicts keyed 0, 1, ... (from a form) as lists."""
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


# --- state ----------------------------------------------------------------------------------


@dataclass
class _Store:
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> the saved model
    parties: dict[str, set[str]] = field(default_factory=dict)  # id -> accounts that may name it
    rng: random.Random = field(default_factory=lambda: random.Random(20261122))
    version: int = 0

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


class _Refused(Exception):
    """An answer other than success; `binding` when the binder could not read the body."""

    def __init__(
        self, status: int, message: str, model_state: dict[str, list[str]] | None = None, binding: bool = False
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.model_state, self.binding = status, message, model_state, binding


# --- the application ------------------------------------------------------------------------


class _Server(ReferenceServer):
    API = API

    def new_store(self) -> _Store:
        return _Store()

    def respond(self, body: bytes, status: int, media: str, headers: dict[str, str] | None = None) -> Response:
        """ASP.NET writes `; charset=utf-8` on both JSON and XML (not with the no-charset variant)."""
        content_type = media if self.faults.on("no-charset") else f"{media}; charset=utf-8"
        return Response(body, status, {**(headers or {}), "Content-Type": content_type})

    def error(
        self,
        request: Request,
        status: int,
        message: str,
        model_state: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        value: dict[str, Any] = {"Message": message}
        if model_state:
            value["ModelState"] = model_state
        body, media = self.bodies.write_or_json(value, "ApiError", self.bodies.negotiate(request.headers.get("accept")))
        return self.respond(body, status, media, headers)

    # -- the endpoint

    def caller(self, request: Request) -> Account | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        account = _BY_TOKEN.get(token.strip()) if scheme.lower() == "bearer" else None
        if account is None and self.faults.on("auth-ignored"):
            return ACCOUNTS[0]
        return account

    async def endpoint(self, request: Request) -> Response:
        if request.method != "POST":
            message = f"The requested resource does not support http method '{request.method}'."
            return self.error(request, 405, message, headers={"Allow": "POST"})
        account = self.caller(request)
        if account is None:
            return self.error(
                request, 401, "Authorization has been denied for this request.", headers={"WWW-Authenticate": "Bearer"}
            )
        try:
            return await self.send(request, account)
        except _Refused as refused:
            if refused.binding and self.faults.on("500-on-malformed"):
                return self.error(request, 500, "An error has occurred.")
            return self.error(request, refused.status, refused.message, refused.model_state)
        except Exception:  # noqa: BLE001 - by contract no input may cause a 5xx
            return self.error(request, 400, "The request is invalid.", {"model": ["The request could not be read."]})

    async def send(self, request: Request, account: Account) -> Response:
        content_type = request.headers.get("content-type")
        kind = media_type(content_type)[0]
        raw = await request.body()
        if kind not in JSON_TYPES + XML_TYPES + (FORM_TYPE,) or (
            kind == "text/json" and self.faults.on("text-json-rejected")
        ):
            shown = kind or "application/octet-stream"
            raise _Refused(415, f"The request entity's media type '{shown}' is not supported for this resource.")
        model = self.bind(raw, content_type, kind)
        self.validate(model, account)
        saved = self.save(model, account)
        return self.answer(request, saved)

    # -- binding

    def bind(self, raw: bytes, content_type: str | None, kind: str) -> dict[str, Any]:
        on = self.faults.on
        spec = self.spec_for_reading()
        if kind == FORM_TYPE:
            try:
                pairs = self.bodies.read(raw, content_type, MODEL).value or []
            except MalformedBody as exc:
                raise _Refused(400, "The request is invalid.", {"model": [str(exc)]}, binding=True) from None
            bound = dotnet_binder.bind_json(spec, MODEL, form_value(pairs))
        else:
            bound = dotnet_binder.bind(spec, MODEL, raw, kind)
        if (
            bound.readable
            and kind in XML_TYPES
            and on("xml-importance-number")
            and isinstance(bound.value, dict)
            and bound.value.get("importance") is not None
        ):
            bound.errors.append("model.Importance: expected a number")
        if bound.readable and kind in JSON_TYPES and on("json-importance-name"):
            text = _json_importance(raw)
            if text is not None and not isinstance(text, str):
                bound.errors.append("model.importance: expected the name of a MessageImportance member")
        if bound.readable and on("strict-binder"):
            bound.errors += self.strict_problems(raw, kind, bound.value)
        if bound.value is None:
            raise _Refused(
                400, "The request is invalid.", {"model": bound.errors or ["A value is required."]}, binding=True
            )
        if bound.errors and not on("model-state-ignored"):
            state: dict[str, list[str]] = {}
            for problem in bound.errors:
                where, _, what = problem.partition(": ")
                state.setdefault(where.replace(MODEL, "model", 1), []).append(what or problem)
            raise _Refused(400, "The request is invalid.", state, binding=True)
        return bound.value

    def spec_for_reading(self) -> dict[str, Any]:
        return _reading_spec(self.faults.on("xml-no-namespace"))

    def strict_problems(self, raw: bytes, kind: str, value: Any) -> list[str]:
        """Variant strict-binder: what the schema does not allow, beyond what the binder reads."""
        if kind in XML_TYPES:
            try:
                return [f"model: {p}" for p in self.bodies.xml.problems(raw, MODEL)]
            except XmlError as exc:
                return [f"model: {exc}"]
        if kind not in JSON_TYPES:
            return []
        try:
            original = json.loads(raw)
        except ValueError:
            return ["model: not JSON"]
        validator = _strict_validator()
        problems = [f"model: {e.message[:120]}" for e in validator.iter_errors(original)]
        known = set(_reading_spec(False)["components"]["schemas"][MODEL]["properties"])
        if isinstance(original, dict):
            problems += [f"model: unknown member {k!r}" for k in original if k not in known]
        return problems

    # -- validation and saving

    def validate(self, model: dict[str, Any], account: Account) -> None:
        on = self.faults.on
        recipients = [r for key in ("to", "cc", "bcc") for r in (model.get(key) or []) if isinstance(r, dict)]
        if not recipients:
            raise _Refused(400, "The request is invalid.", {"model.to": ["At least one recipient is required."]})
        for recipient in recipients:
            if recipient.get("account_id") not in BY_ID:
                raise _Refused(
                    400, "The request is invalid.", {"model.to": [f"No account {recipient.get('account_id')} exists."]}
                )
        sender = model.get("sender_account_id")
        if sender is not None and sender != account.id:
            raise _Refused(400, "The request is invalid.", {"model.sender_account_id": ["Not your own account."]})
        if model.get("attachments"):
            raise _Refused(400, "The request is invalid.", {"model.attachments": ["No such file."]})
        parent = model.get("parent_id")
        if parent is not None:
            with self.store.lock:
                visible = account.id in self.store.parties.get(parent, set())
            if not visible:
                raise _Refused(400, "The request is invalid.", {"model.parent_id": [f"No message {parent}."]})
        if on("seed-headers-refused") and (model.get("message_id") or model.get("references")):
            raise _Refused(400, "The request is invalid.", {"model.message_id": ["Set by the server."]})
        if on("server-members-refused") and any(model.get(k) is not None for k in SERVER_MEMBERS):
            raise _Refused(400, "The request is invalid.", {"model.id": ["Set by the server."]})
        if on("drafts-refused") and model.get("send") is False:
            raise _Refused(400, "The request is invalid.", {"model.send": ["Drafts are not supported."]})

    def save(self, model: dict[str, Any], account: Account) -> dict[str, Any]:
        recipients = {
            r["account_id"] for key in ("to", "cc", "bcc") for r in (model.get(key) or []) if isinstance(r, dict)
        }
        with self.store.lock:
            self.store.version += 1
            saved = {
                **{k: v for k, v in model.items() if k not in SERVER_MEMBERS},
                "id": self.store.new_id(),
                "subscription_id": account.subscription,
                "ts": base64.b64encode(self.store.version.to_bytes(8, "big")).decode(),
                "created_date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
                "can_delete": True,
            }
            saved.setdefault("sender_account_id", account.id)
            saved.setdefault("send", True)
            self.store.messages[saved["id"]] = saved
            self.store.parties[saved["id"]] = {account.id, *recipients}
        return saved

    def answer(self, request: Request, saved: dict[str, Any]) -> Response:
        on = self.faults.on
        if on("no-content-204"):
            return Response(b"", 204)
        media = self.bodies.negotiate(request.headers.get("accept"))
        if media in XML_TYPES and on("xml-served-as-json"):
            media = "application/json"
        headers = {}
        status = 200
        if on("created-201-location"):
            status = 201
            headers["Location"] = f"{str(request.base_url).rstrip('/')}/api/messages/{saved['id']}"
        if on("id-only-200"):
            if media in XML_TYPES:
                body = f'<guid xmlns="{SERIALIZATION_NS}">{saved["id"]}</guid>'.encode()
            else:
                body = f'"{saved["id"]}"'.encode()
        else:
            body = self.bodies.write(_json_ready(saved), MODEL, media)
        if media in JSON_TYPES and on("json-text-plain"):
            media = "text/plain"
        return self.respond(body, status, media, headers)

    async def no_route(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status != 404:
            return self.error(request, status, "The request could not be processed.")
        return self.error(
            request, 404, f"No HTTP resource was found that matches the request URI '{request.url.path}'."
        )


def _json_importance(raw: bytes) -> Any:
    """The raw JSON importance value (fault json-importance-name), or None."""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value.get("importance") if isinstance(value, dict) else None


@cache
def _reading_spec(without_namespaces: bool) -> dict[str, Any]:
    spec = specs.load(API)
    return _without_namespaces(spec) if without_namespaces else spec


@cache
def _strict_validator() -> Any:
    return specs.validator(specs.load(API), f"#/components/schemas/{MODEL}")


def _json_ready(saved: dict[str, Any]) -> dict[str, Any]:
    """The saved model with the enum as its number (an unnamed number stays one, as in .NET)."""
    return dict(saved) if not isinstance(saved.get("importance"), str) else {**saved, "importance": 0}


def create_app(faults: Iterable[str] | FaultSet = ()) -> Any:
    """A fresh CompleteEmpire server (own state) with the named faults and variants on."""
    server = _Server(fault_set(faults, API))
    return Starlette(
        routes=[Route(PATH, Endpoint(server.endpoint))], exception_handlers={HTTPException: server.no_route}
    )
