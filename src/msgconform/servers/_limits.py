"""Limits that keep a reference server up when the client is broken or hostile.

The reference servers are also a sandbox integrators share (`msgconform serve`), so no
client may exhaust them. Every server the launcher starts (`embedded`) is wrapped in
`bounded(app)`, an ASGI middleware, whatever its API:

- **request bodies** over `MAX_BODY_BYTES` (8 MiB) are answered 413 before they are read:
  at once when Content-Length says so, or as soon as a body without one (chunked) grows
  past the limit. The handler never sees such a body.
- **slow clients**: a client gets `BODY_SECONDS` to send its whole body; after that the
  request is answered 408 and the connection closed. Idle keep-alive connections close
  after uvicorn's keep-alive time-out, heads are limited to 16 KiB (`_protocol`), and at most
  `MAX_CONNECTIONS` connections are served at once (uvicorn answers 503 beyond), so a
  slow client holds a coroutine for a bounded time, never a worker.
- **stored state** is bounded by each server (`MAX_STORED_MESSAGES` and
  `MAX_STORED_TEXT_BYTES` below; the oldest messages are forgotten first).

These limits are open choices a vendor makes too: the suite never fails a case on a 413
(see `plugin.harness`).

The middleware signals an over-size or slow body to itself with `BaseException`
subclasses, so that the handlers' catch-all (`except Exception`, which answers 400 so
that no input causes a 5xx) cannot turn them into a 400.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

MAX_BODY_BYTES = 8 * 2**20
BODY_SECONDS = 30.0
MAX_CONNECTIONS = 256
MAX_STORED_MESSAGES = 10_000  # per server; the oldest are forgotten first
MAX_STORED_TEXT_BYTES = 64 * 2**20  # subjects and texts kept, per server (UTF-8 bytes)

__all__ = [
    "BODY_SECONDS",
    "MAX_BODY_BYTES",
    "MAX_CONNECTIONS",
    "MAX_STORED_MESSAGES",
    "MAX_STORED_TEXT_BYTES",
    "bounded",
]


class _TooLarge(BaseException):
    pass


class _TooSlow(BaseException):
    pass


def _error(status: int, message: str) -> tuple[dict, dict]:
    body = json.dumps({"Message": message}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


def bounded(app: Any, *, max_body: int = MAX_BODY_BYTES, body_seconds: float = BODY_SECONDS) -> Any:
    """`app` with request bodies limited in size and in the time a client takes to send them."""
    too_large = f"The request body is larger than this server accepts ({max_body} bytes)."

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            for event in _error(413, too_large):
                await send(event)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + body_seconds
        received = 0
        started = False

        body_done = False

        async def limited_receive() -> dict:
            nonlocal received, body_done
            if body_done:  # after the body: waiting for a disconnect is not the client's doing
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):  # no task per read, unlike wait_for on 3.11
                    message = await receive()
            except TimeoutError:
                raise _TooSlow from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise _TooLarge
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(event: dict) -> None:
            nonlocal started
            if event["type"] == "http.response.start":
                started = True
            await send(event)

        try:
            await app(scope, limited_receive, tracking_send)
        except (_TooLarge, _TooSlow) as exc:
            if started:
                raise RuntimeError("the request body broke the server's limits mid-answer") from None
            status, text = (
                (413, too_large)
                if isinstance(exc, _TooLarge)
                else (408, f"The request body did not arrive within {body_seconds:g} seconds.")
            )
            for event in _error(status, text):
                await send(event)

    return wrapped
