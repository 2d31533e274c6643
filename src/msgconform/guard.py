"""Every request to a target goes through one `Guard`: the rules for live targets.

The guard holds the promises msgconform makes to the owner of a live system:

- at most `max_requests` requests for the whole run of one API (a cap, not a goal);
- at most `rate_limit` requests per second;
- no method the spec does not declare is sent to a target that is not on loopback;
- every exchange bounded in time and size (`msgconform.limits`: the target's `timeout`
  for the whole exchange, `max_response_bytes` for the decoded answer);
- the whole run bounded: after `max_duration` seconds, or after `BREAKER_THRESHOLD`
  consecutive transport failures (time-outs, resets, over-size answers), the guard
  stops the API's run: every later request is refused with the reason (`RunStopped`).

Both HTTP clients the suite uses are wired to it at their transport layer: a `requests`
session whose adapter is `_GuardedAdapter` (Schemathesis sends through `requests`) and an
`httpx.Client` whose transport is `_GuardedTransport` (the scenario tests). A request the
guard refuses raises `GuardRefused`, which the suite reports as a harness error, never as
a vendor failure; so is a `limits.TransportFailure`.

Why five failures in a row: a flaky network drops one or two requests now and then, and
the counter starts again at any complete answer; five in a row with nothing in between
means the target is down or misbehaving, and with the default 10 s timeout it costs at
most about a minute before the run says so -- instead of hours of time-outs.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import cast

import httpx
import requests
import urllib3
from requests.adapters import HTTPAdapter

from msgconform import limits

BREAKER_THRESHOLD = 5  # consecutive transport failures that stop an API's run (see above)


class GuardRefused(RuntimeError):
    """The suite tried to send a request the run's safety rules do not allow."""


class RunStopped(GuardRefused):
    """The API's run was stopped (max_duration, or the circuit breaker); str() is the reason."""


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
        timeout: float = 10.0,
        max_response_bytes: int = limits.DEFAULT_MAX_RESPONSE_BYTES,
        max_duration: float | None = None,
        breaker_threshold: int = BREAKER_THRESHOLD,
    ) -> None:
        self.api = api
        self.loopback = loopback
        self.declared_methods = {method.upper() for method in declared_methods}
        self.rate_limit = rate_limit
        self.max_requests = max_requests
        self.on_exchange = on_exchange
        self.sent = 0
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.max_duration = max_duration
        self.breaker_threshold = breaker_threshold
        self.started = time.monotonic()
        self.stop_reason: str | None = None
        self.failures_in_a_row = 0
        self._lock = threading.Lock()
        self._next_slot = 0.0

    # --- the run's bounds ------------------------------------------------------------

    def stop(self, reason: str) -> None:
        """Stop the API's run: every later request is refused with `reason` (the first one wins)."""
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = reason

    def transport_failed(self, failure: str) -> None:
        with self._lock:
            self.failures_in_a_row += 1
            tripped = self.failures_in_a_row >= self.breaker_threshold
        if tripped:
            self.stop(
                f"stopped after {self.failures_in_a_row} transport failures in a row "
                f"(time-outs, resets or over-size answers); the last: {failure}"
            )

    def transport_ok(self) -> None:
        with self._lock:
            self.failures_in_a_row = 0

    def _check_running(self) -> None:
        if (
            self.stop_reason is None
            and self.max_duration is not None
            and time.monotonic() - self.started >= self.max_duration
        ):
            self.stop(f"stopped when max_duration ({self.max_duration:g} s) was reached")
        if self.stop_reason is not None:
            raise RunStopped(self.stop_reason)

    def admit(self, method: str, url: str) -> None:
        """Called before each request: refuse it, or wait for its rate-limit slot."""
        method = method.upper()
        self._check_running()
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

    def observed(
        self, method: str, url: str, body: bytes | None, status: int, location: str | None, response_body: bytes | None
    ) -> None:
        """Called after each exchange; hands a record (no headers, so no secrets) to `on_exchange`."""
        if self.on_exchange is not None:
            self.on_exchange(
                {
                    "method": method.upper(),
                    "url": url,
                    "body": body,
                    "status": status,
                    "location": location,
                    "response_body": response_body,
                }
            )

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

    def httpx_client(
        self,
        *,
        base_url: str = "",
        timeout: float = 10,
        verify: bool | str | ssl.SSLContext = True,
        proxy: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Client:
        def before(request: httpx.Request) -> None:
            self.admit(request.method, str(request.url))

        def after(response: httpx.Response) -> None:
            response.read()
            request = response.request
            self.observed(
                request.method,
                str(request.url),
                request.content,
                response.status_code,
                response.headers.get("location"),
                response.content,
            )

        transport = _GuardedTransport(self, httpx.HTTPTransport(verify=verify, proxy=proxy, trust_env=False))
        return httpx.Client(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            trust_env=False,
            headers=headers,
            event_hooks={"request": [before], "response": [after]},
        )


def _where(method: str, url: str) -> str:
    """ "POST /restapi/x/v1": how a sentence names a request (no host, no query: no secrets)."""
    return f"{method.upper()} {urllib3.util.parse_url(url).path or '/'}"


class _GuardedTransport(httpx.BaseTransport):
    """httpx's transport, with the exchange bounded (`limits`) and counted by the guard."""

    def __init__(self, guard: Guard, inner: httpx.BaseTransport) -> None:
        self.guard = guard
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        where = _where(request.method, str(request.url))
        try:
            with limits.deadline(self.guard.timeout, where) as bound:
                response = self.inner.handle_request(request)
                try:
                    stream = cast(httpx.SyncByteStream, response.stream)  # a sync transport's answer
                    body, decoded = limits.read_capped(
                        stream, response.headers.get("content-encoding"), self.guard.max_response_bytes, where, bound
                    )
                finally:
                    response.close()
        except limits.TransportFailure as exc:
            self.guard.transport_failed(str(exc))
            raise
        except httpx.TransportError as exc:
            self.guard.transport_failed(f"{where}: no answer ({type(exc).__name__})")
            raise
        self.guard.transport_ok()
        headers = response.headers
        if decoded:  # the body is decoded already: httpx must not decode it again
            headers = httpx.Headers([(k, v) for k, v in headers.multi_items() if k.lower() != "content-encoding"])
        return httpx.Response(
            response.status_code,
            headers=headers,
            stream=httpx.ByteStream(body),
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        self.inner.close()


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self.guard = guard

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.guard.admit(request.method, request.url)
        where = _where(request.method, request.url)
        try:
            with limits.deadline(self.guard.timeout, where) as bound:
                response = super().send(
                    request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies
                )
                try:
                    content, _ = limits.read_capped(
                        _raw_chunks(response, where),
                        response.headers.get("content-encoding"),
                        self.guard.max_response_bytes,
                        where,
                        bound,
                    )
                except BaseException:
                    response.close()  # the rest of the answer is never read: drop the connection
                    raise
        except limits.TransportFailure as exc:
            self.guard.transport_failed(str(exc))
            raise
        except requests.RequestException as exc:
            self.guard.transport_failed(f"{where}: no answer ({type(exc).__name__})")
            raise
        self.guard.transport_ok()
        response._content = content  # decoded and capped; requests never decodes _content again
        response._content_consumed = True  # type: ignore[attr-defined]  # requests' private flag; not in its stubs
        response.raw.release_conn()
        body = request.body.encode() if isinstance(request.body, str) else request.body
        self.guard.observed(
            request.method, request.url, body, response.status_code, response.headers.get("location"), response.content
        )
        return response


def _raw_chunks(response: requests.Response, where: str):
    """The answer's bytes as they came (de-chunked, not decoded); read errors as TransportFailure."""
    try:
        yield from response.raw.stream(limits.CHUNK, decode_content=False)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise limits.TransportFailure(f"{where}: the answer broke off ({type(exc).__name__})") from None
