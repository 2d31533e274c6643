"""Every request to a target goes through one `Guard`: the rules for live targets.

The guard holds the promises msgconform makes to the owner of a live system:

- at most `max_requests` requests for the whole run of one API (a cap, not a goal);
- at most `rate_limit` requests per second;
- no method the spec does not declare is sent to a target that is not on loopback.

Both HTTP clients the suite uses are wired to it: a `requests` session for Schemathesis
(which sends through `requests`) and an `httpx.Client` for the scenario tests. A request
the guard refuses raises `GuardRefused`, which the suite reports as a harness error, never
as a vendor failure.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterable

import httpx
import requests
from requests.adapters import HTTPAdapter


class GuardRefused(RuntimeError):
    """The suite tried to send a request the run's safety rules do not allow."""


class Guard:
    def __init__(
        self,
        *,
        api: str,
        loopback: bool,
        declared_methods: Iterable[str],
        rate_limit: float | None = None,
        max_requests: int | None = None,
        on_exchange: Callable[[dict], None] | None = None,
    ) -> None:
        self.api = api
        self.loopback = loopback
        self.declared_methods = {method.upper() for method in declared_methods}
        self.rate_limit = rate_limit
        self.max_requests = max_requests
        self.on_exchange = on_exchange
        self.sent = 0
        self._lock = threading.Lock()
        self._next_slot = 0.0

    def admit(self, method: str, url: str) -> None:
        """Called before each request: refuse it, or wait for its rate-limit slot."""
        method = method.upper()
        if not self.loopback and method not in self.declared_methods:
            raise GuardRefused(f"{self.api}: {method} {url}: the spec declares no {method}; not sent to a live target")
        with self._lock:
            if self.max_requests is not None and self.sent >= self.max_requests:
                raise GuardRefused(f"{self.api}: max_requests ({self.max_requests}) reached; {method} {url} not sent")
            self.sent += 1
            wait = 0.0
            if self.rate_limit:
                now = time.monotonic()
                slot = max(now, self._next_slot)
                self._next_slot = slot + 1.0 / self.rate_limit
                wait = slot - now
        if wait > 0:
            time.sleep(wait)

    def observed(self, method: str, url: str, body: bytes | None, status: int,
                 location: str | None, response_body: bytes | None) -> None:
        """Called after each exchange; hands a record (no headers, so no secrets) to `on_exchange`."""
        if self.on_exchange is not None:
            self.on_exchange({"method": method.upper(), "url": url, "body": body, "status": status,
                              "location": location, "response_body": response_body})

    # --- clients ---------------------------------------------------------------------

    def requests_session(self, *, verify: bool | str = True, proxy: str | None = None) -> requests.Session:
        session = requests.Session()
        adapter = _GuardedAdapter(self)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.verify = verify
        session.trust_env = False
        if proxy:
            session.proxies = {"http": proxy, "https": proxy}
        return session

    def httpx_client(self, *, base_url: str = "", timeout: float = 10, verify: bool | str | ssl.SSLContext = True,
                     proxy: str | None = None, headers: dict[str, str] | None = None) -> httpx.Client:
        def before(request: httpx.Request) -> None:
            self.admit(request.method, str(request.url))

        def after(response: httpx.Response) -> None:
            response.read()
            request = response.request
            self.observed(request.method, str(request.url), request.content, response.status_code,
                          response.headers.get("location"), response.content)

        return httpx.Client(
            base_url=base_url,
            timeout=timeout,
            verify=verify,
            proxy=proxy,
            trust_env=False,
            headers=headers,
            event_hooks={"request": [before], "response": [after]},
        )


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self.guard = guard

    def send(self, request, *args, **kwargs):
        self.guard.admit(request.method, request.url)
        response = super().send(request, *args, **kwargs)
        body = request.body.encode() if isinstance(request.body, str) else request.body
        self.guard.observed(request.method, request.url, body, response.status_code,
                            response.headers.get("location"), response.content)
        return response
