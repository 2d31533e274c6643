"""The reference servers' HTTP/1.1 protocol: uvicorn's httptools protocol, heads bounded.

uvicorn parses HTTP with h11 (pure Python) unless httptools (llhttp, in C) is installed.
The bench (`scripts/bench.py`, latency) showed where a reference server's time went with h11:
about 0.3 ms of CPU per request, enough that 8 concurrent clients waited 2 to 3 ms for an
answer (p50) on 2 cores; with httptools 0.19 to 0.26 ms, and 1.4 to 1.9 ms. The handlers,
the body limits and every answer are the same: only the parsing of requests changes.

One thing h11 did that uvicorn's httptools protocol does not: bound a request's head (h11
refuses more than 16 KiB of it), so that a client sending an endless header line cannot make
a shared sandbox (`msgconform serve`) buffer it. `HeadBoundedHttpTools` does: more than
`MAX_HEAD_BYTES` received while a head is incomplete is answered
`431 Request Header Fields Too Large` and the connection closed. It counts the chunks read
wholly inside a head; a chunk in which one request ends and the next one's head begins
(pipelining) is not counted, so what a head can hold is bounded by the limit plus one read.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 16 * 1024  # as h11's default bound

_TOO_LARGE_TEXT = b"Request header fields too large."
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\n"
    b"connection: close\r\n"
    b"\r\n%s" % (len(_TOO_LARGE_TEXT), _TOO_LARGE_TEXT)
)


class HeadBoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing request heads over `MAX_HEAD_BYTES`."""

    _in_head = False
    _head_bytes = 0
    _message_ended = False

    def data_received(self, data: bytes) -> None:
        self._message_ended = False
        super().data_received(data)
        if self._in_head and not self._message_ended and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self.transport.write(_TOO_LARGE)
                self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head, self._message_ended = False, True
        super().on_message_complete()
