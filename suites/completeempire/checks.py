"""CompleteEmpire response checks: each binds one catalogued case to a judgement.

They run on every exchange of the API, from fuzzing and the stories alike; a check returns
None when the exchange says nothing about its case.

CE-HTTP-002 is judged against the vendor's own binder: a generated negative request counts
only when Json.NET or DataContractSerializer could not read the bytes that were sent
(`msgconform.dotnet_binder`, this API's binder profile). A value those binders convert, or
structure they skip, is a message the vendor may rightly send.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from msgconform import dotnet_binder, specs
from msgconform.plugin import generic
from msgconform.plugin.checks import response_check
from msgconform.plugin.harness import Exchange

API = "completeempire"
SEND = ["sendMessage"]
MODEL = "MessageComposeModel"
SUCCESS = tuple(range(200, 300))


@cache
def spec() -> dict:
    return specs.load(API)


def wire_body(ex: Exchange) -> bytes | None:
    """The request body as it went over the wire, or None when the exchange does not keep it."""
    request = getattr(ex.response, "request", None)
    body = getattr(request, "body", None)
    if body is None:
        body = getattr(request, "content", None)
    if isinstance(body, str):
        return body.encode("utf-8")
    return body if isinstance(body, bytes) else (b"" if request is not None else None)


def unreadable(raw: bytes, media_type: str | None) -> str | None:
    """Why the vendor's binder cannot read this body, or None when it can (or is not judged)."""
    bound = dotnet_binder.bind(spec(), MODEL, raw, media_type)
    if not bound.judged or bound.readable:
        return None
    return bound.errors[0]


# --- every operation -----------------------------------------------------------------------

response_check(API, "CE-HTTP-001")(generic.no_server_error)
response_check(API, "CE-AUTH-001")(generic.credentials_required)


@response_check(API, "CE-HTTP-002", operations=SEND)
def unreadable_input_refused(ex: Exchange) -> Any:
    if not ex.negative or ex.status >= 500 or ex.sent_without_credentials:
        return None  # 5xx: CE-HTTP-001; no credentials: CE-AUTH-001
    raw = wire_body(ex)
    if raw is None:
        return None
    reason = unreadable(raw, ex.request_headers.get("content-type"))
    if reason is None:
        return None  # the vendor's binder reads it: not an invalid request for this vendor
    if 200 <= ex.status < 300:
        return f"a body the binder cannot read ({reason[:160]}) was answered {ex.status}"
    return True


# --- response formats (seed 001) -------------------------------------------------------------


def _with_body(check):
    def judged(ex: Exchange) -> Any:
        return check(ex) if ex.content.strip() else None  # no body: the answer is undocumented

    return judged


response_check(API, "CE-RESP-001", operations=SEND)(
    _with_body(generic.content_type_as_asked(SUCCESS, generic.JSON_TYPES)))
response_check(API, "CE-RESP-002", operations=SEND)(
    _with_body(generic.content_type_as_asked(SUCCESS, generic.XML_TYPES)))
