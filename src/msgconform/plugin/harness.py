"""The harness: one per API under test, shared by its fuzz, stateful and scenario tests.

It owns what every test of one API needs: the target and its users, the guard every
request passes, the recorder, the pool of message ids this run created, and the loaded
Schemathesis schema. Its `exercise(case)` is the single path a generated request takes:

    rewrite identifiers -> choose Accept -> send through the guard -> run every response
    check registered for the API -> run the follow-ups (e.g. follow a Location)

Identifiers are rewritten because a generated request must never name a person or a
message the run does not own: every id comes from the targets file or from a response
of this run (see `IdRewriter`).
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import certifi
import httpx
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.meta import TestPhase
from vcr.errors import CannotOverwriteExistingCassetteException

from msgconform import _resources, binders, specs, wire
from msgconform.guard import Guard, GuardRefused
from msgconform.limits import TransportFailure
from msgconform.plugin.checks import ResponseCheck, checks_for
from msgconform.plugin.recorder import Recorder
from msgconform.plugin.xml import XML_TYPES, serialize_body
from msgconform.targets import ApiTarget
from msgconform.xmlcodec import XmlError

INT64_MAX = 2**63 - 1
TOO_LARGE = "the target refused the request as too large (413), a limit the documents leave open"


@dataclass
class RunSettings:
    mode: str  # live | record | replay
    seed: int
    max_examples: int
    allow_attacks: bool = False

    @property
    def shrink(self) -> bool:
        # A failing example must not send requests a cassette lacks.
        return self.mode == "live"


@dataclass
class Exchange:
    """One request and its response, as a check sees it."""

    operation_id: str
    method: str
    path: str  # as sent, without the base URL
    status: int
    headers: httpx.Headers
    content: bytes
    request_headers: httpx.Headers
    request_content: bytes = b""  # the body exactly as sent
    request_media_type: str | None = None
    # True only for a generated negative request that the vendor's binder cannot read as
    # sent (msgconform.binders); `negative_reasons` says why, `mode` how it was generated.
    negative: bool = False
    role: str = "sender"
    credential_names: tuple[str, ...] = ()  # the headers that carry the role's credentials
    case: Any = None  # the Schemathesis case (its body replaced by the wire's), for delegation
    response: Any = None  # the Schemathesis response object, likewise
    mode: str | None = None  # "positive" or "negative" for a generated request, else None
    negative_reasons: tuple[str, ...] = ()
    wire: Any = field(default=None, repr=False, compare=False)  # (spec, operation) to decode with

    @cached_property
    def request_body(self) -> Any:
        """The request body as the wire carried it, decoded by its media type's codec
        (msgconform.wire): never the value a generator or a story meant to send."""
        spec, operation = self.wire if self.wire is not None else (None, None)
        return wire.decode(spec, operation, self.request_media_type, self.request_content)

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def accept(self) -> str:
        return self.request_headers.get("accept", "")

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def where(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def sent_without_credentials(self) -> bool:
        """True when a generated request dropped the role's credential headers."""
        return any(name not in self.request_headers for name in self.credential_names)


@dataclass
class Pools:
    """Identifiers the run may use: people from the targets file, messages from responses."""

    people: list[int | str] = field(default_factory=list)
    messages: list[int | str] = field(default_factory=list)  # CompleteEmpire's ids are guids

    def pick(self, kind: str, value: int) -> int | str | None:
        pool = self.people if kind == "person" else self.messages
        if not pool:
            return None
        return pool[value % len(pool)]


class IdRewriter:
    """Replaces every identifier a generator made up with one the run owns.

    `fields` maps a property or path-parameter name (or `parent.name`, for a property of
    objects held under `parent`) to the kind of id it holds: `person` or `message` (from
    the pools), or any other kind, which no pool holds and which always becomes 0 (the run
    owns no such record, e.g. an uploaded file). Integers from 1 to 2**63-1 there are replaced (one of them
    could name a real record), and so are strings and floats a lenient binder would read
    as such an integer ("5", 5.0); zero, negatives, out-of-range numbers and other values
    are kept, because no record can have them and negative tests need them.
    """

    def __init__(self, fields: dict[str, str], pools: Pools) -> None:
        self.fields = fields
        self.pools = pools

    def rewrite_case(self, case: Any) -> None:
        for name, value in list(case.path_parameters.items()):
            if name in self.fields:
                case.path_parameters[name] = self._value(self.fields[name], value)
        for name, value in list((case.query or {}).items()):
            if name in self.fields:
                case.query[name] = self._value(self.fields[name], value)
        if isinstance(case.body, (dict, list)):
            case.body = self.rewrite(case.body)

    def rewrite(self, value: Any, kind: str | None = None, parent: str | None = None) -> Any:
        if isinstance(value, dict):
            return {
                k: self.rewrite(v, self.fields.get(f"{parent}.{k}") or self.fields.get(k), k) for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.rewrite(item, kind, parent) for item in value]
        if kind is not None:
            return self._value(kind, value)
        return value

    def without_ids(self, value: Any, kind: str | None = None, parent: str | None = None) -> Any:
        """`value` with whatever its id fields hold replaced by the kind of id (for choices that
        must not depend on which ids the target handed out); walks as `rewrite` does."""
        if isinstance(value, dict):
            return {
                k: self.without_ids(v, self.fields.get(f"{parent}.{k}") or self.fields.get(k), k)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.without_ids(item, kind, parent) for item in value]
        return f"<{kind} id>" if kind is not None else value

    def _value(self, kind: str, value: Any) -> Any:
        number = _as_id(value)
        if number is None:
            return value
        picked = self.pools.pick(kind, number)
        picked = picked if picked is not None else 0
        # Keep the generated type: a vendor's binder (Json.NET, DataContract) reads "5" and
        # 5.0 as the id 5, so those are ids too, but a negative test still sends a string.
        if isinstance(value, str):
            return str(picked)
        if isinstance(value, float):
            return float(picked)
        return picked


def _as_id(value: Any) -> int | None:
    """The record id a value could name once a lenient binder reads it, or None: integers
    from 1 to 2**63-1, and strings and floats that read as one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\+?\d+(\.0*)?\s*", value):
        value = int(float(value)) if "." in value else int(value)
    return value if isinstance(value, int) and 1 <= value <= INT64_MAX else None


def _resolve_ref(spec: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for token in node["$ref"].removeprefix("#/").split("/"):
            target = target[token]
        node = target
    return node


def _path_parameters(template: str, path: str) -> dict[str, str]:
    """{"messageId": "42"} for template /messages/{messageId}/v1 and path /messages/42/v1."""
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
    match = re.fullmatch(pattern, path)
    return {k: unquote(v) for k, v in match.groupdict().items()} if match else {}


def _stable_index(text: str, modulo: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % modulo


class ApiHarness:
    def __init__(
        self,
        *,
        api: str,
        target: ApiTarget,
        recorder: Recorder,
        settings: RunSettings,
        id_fields: dict[str, str],
        on_exchange: Callable[[dict], None] | None = None,
    ) -> None:
        self.api = api
        self.target = target
        self.recorder = recorder
        self.settings = settings
        self.pools = Pools(
            people=[u.id for r, u in target.users.items() if r not in ("sender", "outsider") and u.id is not None]
        )
        self.rewriter = IdRewriter(id_fields, self.pools)
        self._accept_seen: dict[str, int] = {}
        self.followups: list[Callable[[ApiHarness, Exchange], None]] = []
        self.guard = Guard(
            api=api,
            loopback=target.is_loopback,
            declared_methods=self.declared_methods,
            rate_limit=None if settings.mode == "replay" else target.rate_limit,  # replay sends nothing
            max_requests=target.max_requests,
            on_exchange=on_exchange,
            timeout=target.timeout,
            max_response_bytes=target.max_response_bytes,
            # A replay sends nothing and must judge what the recording judged: no clock.
            max_duration=None if settings.mode == "replay" else target.max_duration,
        )
        self.session = self.guard.requests_session(verify=target.verify, proxy=target.proxy)
        self._auth_probed: set[str] = set()
        self._nonce = 0  # for unique()
        # Told of every exchange before its checks run (the Allure plugin attaches them).
        self.exchange_listeners: list[Callable[[ApiHarness, Exchange], None]] = []

    # --- the spec ---------------------------------------------------------------------------

    @cached_property
    def raw_spec(self) -> dict:
        from msgconform import _yaml

        return _yaml.safe_load(_resources.spec_path(self.api).read_text(encoding="utf-8"))

    @cached_property
    def declared_methods(self) -> set[str]:
        methods = set()
        for item in self.raw_spec.get("paths", {}).values():
            methods |= {m.upper() for m in item if m in {"get", "put", "post", "delete", "patch", "head", "options"}}
        return methods

    def schema(self) -> Any:
        """The Schemathesis schema for this run (built once): fixed seed, no example database."""
        return self._schema

    @cached_property
    def _schema(self) -> Any:
        # From the parsed document, not its path: where msgconform is installed must not
        # shape what is generated (a replay from a wheel sends what a checkout recorded).
        return self.schema_of(specs.load(self.api))

    def schema_of(self, document: dict) -> Any:
        """A Schemathesis schema of `document` with this run's settings (seed, examples, phases,
        base URL): the run's own schema is `schema_of` the API's spec."""
        config = SchemathesisConfig.from_dict(
            {
                "seed": self.settings.seed,
                "generation": {
                    "mode": "all",
                    "max-examples": self.settings.max_examples,
                    "database": "none",
                    "no-shrink": not self.settings.shrink,
                },
                # Methods the spec does not declare are never probed: a real vendor may
                # implement them (itslearning has PUT and DELETE) and they change data.
                "phases": {"coverage": {"unexpected-methods": []}},
                # Generation must depend on the seed and the spec alone: literals taken from
                # Python source would change the requests (and stale every cassette) whenever
                # the code changes.
                "analysis": {"constants": {"enabled": False}},
            }
        )
        schema = schemathesis.openapi.from_dict(document, config=config)
        schema.config.update(base_url=self.target.base_url, request_timeout=self.target.timeout)
        return schema

    # --- users --------------------------------------------------------------------------------

    def headers_of(self, role: str) -> dict[str, str]:
        return dict(self.target.users[role].headers)

    @cached_property
    def _tls(self) -> ssl.SSLContext | bool:
        """One TLS context for every client of the run (building one reads the CA bundle)."""
        verify = self.target.verify
        if verify is False:
            return False
        return ssl.create_default_context(cafile=verify if isinstance(verify, str) else certifi.where())

    def client(self, role: str | None = None) -> httpx.Client:
        """An httpx client for scenario tests, acting as `role` (None: no credentials)."""
        return self.guard.httpx_client(
            base_url=self.target.base_url,
            timeout=self.target.timeout,
            verify=self._tls,
            proxy=self.target.proxy,
            headers=self.headers_of(role) if role else None,
        )

    # --- one generated request ------------------------------------------------------------------

    def exercise(self, case: Any, role: str = "sender") -> Exchange | None:
        """Send one generated request and judge the answer; None when nothing was sent."""
        if self._repeats_coverage(case):
            return None  # a boundary value already sent in another media type of its format
        self.rewriter.rewrite_case(case)
        if case.media_type in XML_TYPES and isinstance(case.body, (dict, list)):
            try:
                serialize_body(self.raw_spec, case.operation.definition.raw, case.media_type, case.body)
            except XmlError:
                return None  # XML 1.0 cannot carry this example (control characters): not sent
        headers = self.headers_of(role)
        if "accept" not in {k.lower() for k in (case.headers or {})}:
            headers["Accept"] = self._accept_for(case)
        try:
            response = case.call(
                session=self.session, headers=headers, timeout=self.target.timeout, verify=self.target.verify
            )
        except GuardRefused as exc:
            self.recorder.harness(self.api, str(exc))
            return None
        except TransportFailure as exc:
            self.recorder.harness(self.api, str(exc))
            return None
        except requests.RequestException as exc:
            self.recorder.harness(self.api, f"{case.method} {case.formatted_path}: no answer ({type(exc).__name__})")
            return None
        except CannotOverwriteExistingCassetteException as exc:
            self._missed(exc)
            return None
        exchange = self._exchange(case, response, role)
        self.run_checks(exchange)
        try:
            for followup in self.followups:
                followup(self, exchange)
        except CannotOverwriteExistingCassetteException as exc:
            self._missed(exc)
            return None
        return exchange

    def _repeats_coverage(self, case: Any) -> bool:
        """A coverage-phase case in a media type that an earlier-declared media type of the
        same format already carries: `text/json` beside `application/json`, `text/xml`
        beside `application/xml`.

        Schemathesis' coverage phase writes every boundary value once per declared media type
        (it is not bounded by --max-examples). One binder reads both media types of a format
        (binders.yaml names binders per format), so the repeat asks a question already
        answered, at the cost of hundreds of requests: 466 of CompleteEmpire's 1052. The
        fuzzing phase and the stories still send every media type."""
        meta = getattr(case, "meta", None)
        if meta is None or meta.phase.name != TestPhase.COVERAGE:
            return False
        family = next((f for f in (wire.JSON_TYPES, wire.XML_TYPES) if case.media_type in f), None)
        if family is None:
            return False
        declared = wire.request_media_types(self.raw_spec, case.operation.definition.raw)
        first = next((media for media in declared if media in family), case.media_type)
        return first != case.media_type

    def _missed(self, error: CannotOverwriteExistingCassetteException) -> None:
        """Replay met a request the cassettes lack: a harness error (never a vendor failure)."""
        from msgconform.plugin.recording import describe_miss

        self.recorder.harness(self.api, describe_miss(error))

    def run_checks(self, exchange: Exchange, checks: list[ResponseCheck] | None = None) -> None:
        for listener in self.exchange_listeners:
            listener(self, exchange)
        for check in checks if checks is not None else checks_for(self.api):
            if not check.applies_to(exchange.operation_id):
                continue
            if exchange.status == 413:
                # How large a request a vendor takes is an open choice (our reference
                # servers stop at 8 MiB): a 413 is never a finding, for any case.
                self.recorder.skip(check.case_id, TOO_LARGE)
                continue
            result = check.fn(exchange)
            if result is None:
                continue
            if result is True:
                self.recorder.judge(check.case_id, True)
            else:
                self.recorder.judge(check.case_id, False, f"{result} ({exchange.where})")

    def _accept_for(self, case: Any) -> str:
        """One of the media types the operation's success answer is documented in, chosen
        from the request itself, so that a replay asks for the same."""
        choices = self.response_media_types(case.operation.definition.raw)
        if not choices:
            return "*/*"
        # Not from the identifiers in it: they are the target's (another run, or another
        # vendor version, hands out others), and two recordings of the same suite must ask
        # for the same media types to be compared answer by answer (`msgconform diff`).
        body = case.body if isinstance(case.body, (dict, list, str, bytes, int, float, bool)) else None
        body_text = json.dumps(self.rewriter.without_ids(body), sort_keys=True, default=repr)
        params = self.rewriter.without_ids(dict(case.path_parameters or {}))
        query = self.rewriter.without_ids(dict(case.query or {}))
        key = f"{case.method} {case.operation.path} {sorted(params.items())!r} {sorted(query.items())!r} {body_text}"
        seen = self._accept_seen.get(key, 0)  # the same request up to ids, again: the next choice
        self._accept_seen[key] = seen + 1
        return choices[(_stable_index(key, len(choices)) + seen) % len(choices)]

    def response_media_types(self, operation: dict) -> list[str]:
        media_types: list[str] = []
        for status in sorted(operation.get("responses", {})):
            if status.startswith("2"):
                schema_owner = _resolve_ref(self.raw_spec, operation["responses"][status])
                media_types += [m for m in (schema_owner or {}).get("content", {}) if m not in media_types]
        return media_types

    def _exchange(self, case: Any, response: Any, role: str) -> Exchange:
        """The exchange as the wire carried it: the request is read back from the prepared
        request that was sent, never from the generated case (whose body is replaced by
        the decoded wire value, so that no check can reach the generator's value)."""
        request = response.request
        meta = case.meta
        mode = meta.generation.mode.value if meta is not None else None
        url = urlsplit(request.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        content = request.body or b""
        content = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        media_type = request.headers.get("content-type") or None
        operation = case.operation.definition.raw
        reasons = (
            self.unreadable(operation, case.operation.path, request.url, media_type, content)
            if mode == "negative"
            else ()
        )
        exchange = Exchange(
            operation_id=operation.get("operationId", case.operation.label),
            method=case.method.upper(),
            path=path,
            status=response.status_code,
            headers=httpx.Headers([(k, v) for k, values in response.headers.items() for v in values]),
            content=response.content or b"",
            request_headers=httpx.Headers(dict(request.headers)),
            request_content=content,
            request_media_type=media_type,
            negative=bool(reasons),
            role=role,
            credential_names=tuple(self.headers_of(role)),
            case=case,
            response=response,
            mode=mode,
            negative_reasons=reasons,
            wire=(self.raw_spec, operation),
        )
        decoded = exchange.request_body
        # The generator's value is gone: only the wire's remains. A body its media type cannot
        # read stays as the text sent (Schemathesis serializes case.body for its own reports).
        case.body = (
            exchange.request_content.decode("utf-8", "replace") if isinstance(decoded, wire.Undecodable) else decoded
        )
        return exchange

    def unreadable(
        self, operation: dict, template: str, url: str, media_type: str | None, content: bytes
    ) -> tuple[str, ...]:
        """Why the vendor's binder cannot read this request as sent (msgconform.binders);
        () when it can, and then a request generated as negative is not negative."""
        parts = urlsplit(url)
        base_path = urlsplit(self.target.base_url).path.rstrip("/")
        relative = parts.path[len(base_path) :] if base_path and parts.path.startswith(base_path) else parts.path
        return tuple(
            binders.request_problems(
                self.raw_spec,
                operation,
                _path_parameters(template, relative),
                parse_qsl(parts.query, keep_blank_values=True),
                media_type,
                content,
            )
        )

    # --- requests the suite makes itself (scenarios, follow-ups) ----------------------------------

    def exchange_from_httpx(
        self, response: httpx.Response, role: str | None, body: Any = None, *, generated: str | None = None
    ) -> Exchange:
        """An `Exchange` for a request made with httpx, tied to its spec operation when one matches.

        `body` is ignored (kept for callers): what checks see is decoded from the bytes sent.
        `generated` ("positive" or "negative") judges the request as a generated one of that
        mode is judged (the quality group replays exact generated requests this way)."""
        from schemathesis.core.transport import Response as StResponse

        request = response.request
        base_path = urlsplit(self.target.base_url).path.rstrip("/")
        path = request.url.path
        relative = path[len(base_path) :] if base_path and path.startswith(base_path) else path
        operation = self.schema().find_operation_by_path(request.method, relative)
        case = st_response = None
        operation_id = "unknown"
        if operation is not None:
            operation_id = operation.definition.raw.get("operationId", operation.label)
            media_type = request.headers.get("content-type")
            case = operation.Case(
                media_type=media_type.split(";")[0] if media_type else None,
                path_parameters=_path_parameters(operation.path, relative),
            )
            st_response = StResponse.from_httpx(response, verify=True)
        query = request.url.query.decode() if isinstance(request.url.query, bytes) else request.url.query
        reasons: tuple[str, ...] = ()
        if generated == "negative" and operation is not None:
            reasons = self.unreadable(
                operation.definition.raw,
                operation.path,
                str(request.url),
                request.headers.get("content-type"),
                request.content,
            )
        return Exchange(
            operation_id=operation_id,
            method=request.method.upper(),
            path=path + (f"?{query}" if query else ""),
            status=response.status_code,
            headers=response.headers,
            content=response.content,
            request_headers=request.headers,
            request_content=request.content,
            request_media_type=request.headers.get("content-type"),
            role=role or "anonymous",
            case=case,
            response=st_response,
            wire=(self.raw_spec, operation.definition.raw) if operation is not None else None,
            mode=generated,
            negative=bool(reasons),
            negative_reasons=reasons,
        )

    def judged(
        self, response: httpx.Response, role: str | None, body: Any = None, *, followups: bool = True
    ) -> Exchange:
        """A story's request, judged as a generated one is: every response check, then
        (unless `followups` is False) the follow-ups."""
        exchange = self.exchange_from_httpx(response, role, body)
        self.run_checks(exchange)
        if followups:
            for followup in self.followups:
                followup(self, exchange)
        return exchange

    def unique(self) -> str:
        """Eight hex digits, new at each call, derived from the run's seed (a replay makes the
        same ones): what stories put into subjects and bodies to recognise their messages."""
        self._nonce += 1
        return hashlib.sha256(f"{self.settings.seed}:{self._nonce}".encode()).hexdigest()[:8]

    # --- follow-ups -----------------------------------------------------------------------------

    def resend_without_credentials(self, exchange: Exchange, headers: dict[str, str]) -> int | None:
        """Send the request of `exchange` again with other credentials; the status, or None."""
        prepared = exchange.response.request.copy()
        for name in self.headers_of(exchange.role):
            prepared.headers.pop(name, None)
        prepared.headers.update(headers)
        try:
            return self.session.send(prepared, timeout=self.target.timeout).status_code
        except (GuardRefused, TransportFailure) as exc:
            self.recorder.harness(self.api, str(exc))
        except requests.RequestException as exc:
            self.recorder.harness(self.api, f"{exchange.where}: no answer ({type(exc).__name__})")
        return None
