"""Before any test: is every target reachable, and does it accept every role's credentials?

One cheap authenticated call per role, chosen so that it creates nothing: a request the
API must refuse as invalid (itslearning: a recipient search with fewer than three
characters; HighQ: a new conversation whose body is not JSON at all). Only a 401 or 403
there means the credentials were rejected; any other answer means the target is up and
the credentials work. A problem ends the run within seconds, in one line naming the API
and the role or URL (contracts.md section 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from msgconform import limits
from msgconform.errors import MsgconformError
from msgconform.targets import ApiTarget


@dataclass(frozen=True)
class Probe:
    """One request per role; it must create nothing whatever the target does with it."""

    method: str
    path: str  # appended to base_url
    content_type: str | None = None
    body: bytes | None = None


PROBES: dict[str, Probe] = {
    "itslearning": Probe("GET", "/restapi/personal/messages/recipients/search/v1?searchText=ms"),
    # HighQ documents no read-only operation next to new conversation, so the probe is a
    # POST that cannot create one: a body that is not even JSON fails at parsing, before any
    # validation. A well-formed but invalid conversation would not do: HighQ documents 403
    # for "Validation failed" as well as "Forbidden", and only a 401 or 403 here may mean
    # rejected credentials.
    "highq": Probe("POST", "/4/conversations/", "application/json", b"{"),
    # CompleteEmpire has only the send: the same kind of probe, a body that is not JSON.
    "completeempire": Probe("POST", "/api/messages/sendmessage", "application/json", b"{"),
    # SuperOffice's EMail agent has only POSTs that send mail; a body that is not JSON sends
    # nothing (it cannot bind), and the agent's credentials are checked before the body.
    "superoffice": Probe("POST", "/api/v1/Agents/EMail/SendEMails", "application/json", b"{"),
}
# What a refusal may mean beyond bad credentials, said in the same one line.
HINTS: dict[tuple[str, int], str] = {
    ("superoffice", 403): "; the EMail agent is not available in SuperOffice Online unless access was "
    "requested when the app was registered",
}
PROBE_TIMEOUT = 5.0


class PreflightError(MsgconformError):
    """A target cannot be tested: unreachable, or a role's credentials are rejected (status 2)."""


def check(target: ApiTarget) -> None:
    probe = PROBES[target.api]
    method, path = probe.method, probe.path
    url = target.base_url + path
    extra = {"Content-Type": probe.content_type} if probe.content_type else {}
    timeout = min(target.timeout, PROBE_TIMEOUT)
    with httpx.Client(timeout=timeout, verify=target.verify, proxy=target.proxy, trust_env=False) as client:
        for role, user in target.users.items():
            try:
                # Only the status matters: the answer's body is never read (a target that
                # trickles or bloats its bodies is the suite's to judge), and the head is
                # bounded as a whole (msgconform.limits).
                with (
                    limits.deadline(timeout, f"{method} {path.split('?')[0]}"),
                    client.stream(method, url, headers={**user.headers, **extra}, content=probe.body) as response,
                ):
                    pass
            except (httpx.TimeoutException, limits.ExchangeTimeout):
                raise PreflightError(f"{target.api}: {target.base_url} did not answer within {timeout:g} s") from None
            except httpx.HTTPError as exc:
                reason = _reason(exc)
                raise PreflightError(f"{target.api}: cannot reach {target.base_url} ({reason})") from None
            if response.status_code in (401, 403):
                raise PreflightError(
                    f"{target.api}: the credentials of role {role!r} were rejected "
                    f"({response.status_code} for {method} {path.split('?')[0]})"
                    + HINTS.get((target.api, response.status_code), "")
                )


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return " ".join(text.split())[:120]
