"""CompleteEmpire response checks: each binds one catalogued case to a judgement.

They run on every exchange of the API, from fuzzing and the stories alike; a check returns
None when the exchange says nothing about its case.

CE-HTTP-002 is judged against the vendor's own binder: a generated request is negative
(`Exchange.negative`) only when the binder profiles the spec names (`x-msgconform-binder`:
Json.NET, DataContractSerializer, ASP.NET forms; `msgconform.binders`) cannot read the bytes
that were sent. A value those binders convert, or structure they skip, is a message the
vendor may rightly accept.
"""

from __future__ import annotations

from typing import Any

from msgconform.plugin import generic
from msgconform.plugin.checks import response_check
from msgconform.plugin.harness import Exchange

API = "completeempire"
SEND = ["sendMessage"]
MODEL = "MessageComposeModel"
SUCCESS = tuple(range(200, 300))


def spec() -> dict:
    """The spec of the API, shared by its checks and tests (which only read it)."""
    return generic.spec_of(API)


# --- every operation -----------------------------------------------------------------------

response_check(API, "CE-HTTP-001")(generic.no_server_error)
response_check(API, "CE-AUTH-001")(generic.credentials_required)


@response_check(API, "CE-HTTP-002", operations=SEND)
def unreadable_input_refused(ex: Exchange) -> Any:
    if not ex.negative or ex.status >= 500 or ex.sent_without_credentials:
        return None  # not negative for the binder; 5xx: CE-HTTP-001; no credentials: CE-AUTH-001
    if 200 <= ex.status < 300:
        reason = (ex.negative_reasons or ("unreadable",))[0]
        return f"a body the binder cannot read ({reason[:160]}) was answered {ex.status}"
    return True


# --- response formats (seed 001) -------------------------------------------------------------


def _with_body(check):
    def judged(ex: Exchange) -> Any:
        return check(ex) if ex.content.strip() else None  # no body: the answer is undocumented

    return judged


response_check(API, "CE-RESP-001", operations=SEND)(
    _with_body(generic.content_type_as_asked(SUCCESS, generic.JSON_TYPES))
)
response_check(API, "CE-RESP-002", operations=SEND)(
    _with_body(generic.content_type_as_asked(SUCCESS, generic.XML_TYPES))
)
