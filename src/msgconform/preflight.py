"""Before any test: is every target reachable, and does it accept every role's credentials?

One cheap authenticated call per role, chosen so that it creates nothing: a request the
API must refuse as invalid (itslearning: a recipient search with fewer than three
characters). Only a 401 or 403 there means the credentials were rejected; any other
answer means the target is up and the credentials work. A problem ends the run within
seconds, in one line naming the API and the role or URL (contracts.md section 1).
"""

from __future__ import annotations

import httpx

from msgconform.errors import MsgconformError
from msgconform.targets import ApiTarget

# api -> (method, path appended to base_url); each must create nothing.
PROBES: dict[str, tuple[str, str]] = {
    "itslearning": ("GET", "/restapi/personal/messages/recipients/search/v1?searchText=ms"),
}
PROBE_TIMEOUT = 5.0


class PreflightError(MsgconformError):
    """A target cannot be tested: unreachable, or a role's credentials are rejected (status 2)."""


def check(target: ApiTarget) -> None:
    method, path = PROBES[target.api]
    url = target.base_url + path
    timeout = min(target.timeout, PROBE_TIMEOUT)
    with httpx.Client(timeout=timeout, verify=target.verify, proxy=target.proxy, trust_env=False) as client:
        for role, user in target.users.items():
            try:
                response = client.request(method, url, headers=user.headers)
            except httpx.TimeoutException:
                raise PreflightError(f"{target.api}: {target.base_url} did not answer within {timeout:g} s") from None
            except httpx.HTTPError as exc:
                reason = _reason(exc)
                raise PreflightError(f"{target.api}: cannot reach {target.base_url} ({reason})") from None
            if response.status_code in (401, 403):
                raise PreflightError(
                    f"{target.api}: the credentials of role {role!r} were rejected "
                    f"({response.status_code} for {method} {path.split('?')[0]})"
                )


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return " ".join(text.split())[:120]
