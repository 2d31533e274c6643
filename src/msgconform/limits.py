"""Bounds on every exchange with a target: the whole exchange in time, the answer in size.

A target msgconform does not control may answer slowly on purpose (a byte a second), send
a decompression bomb, or answer with more bytes than any message API needs. Socket
time-outs bound each read, not an exchange, and HTTP libraries decode an answer whole
before anyone can look at its size. This module holds the two bounds the targets file
promises (contracts.md section 2) and applies them at the transport layer, below both
HTTP clients the suite uses (`guard` wires them in), so no test can forget them:

- **time**: `deadline(seconds)` bounds one exchange from connect to the last byte of the
  answer. In the main thread (where the suite's tests run) it arms a real-time timer
  (``SIGALRM``) whose handler raises `ExchangeTimeout` inside whatever blocking read or
  connect is going on, so a trickling answer -- head or body -- ends on time. Elsewhere
  (another thread) the deadline is checked between reads, and each read is still bounded
  by the per-read time-out the client was given.
- **size**: `read_capped(raw_chunks, content_encoding, cap)` reads an answer as a stream
  of raw (still encoded) chunks and decodes gzip and deflate itself, chunk by chunk, with
  `zlib`'s ``max_length``: the decoded text never grows past ``cap + 1`` bytes, so a
  bomb costs no more memory than an honest answer at the cap. An answer over the cap is
  cut off and raises `AnswerTooLarge`. Encodings it cannot decode (``br`` without a
  decoder, say) are kept as they are, capped on the wire.

Both failures are `TransportFailure`s: one sentence naming the request, for the report,
and something the guard counts towards its circuit breaker. They are not `OSError`s,
so HTTP libraries never mistake them for a network error to retry.

Known limit: with ``--record``, vcrpy reads each answer whole (to write it into the
cassette) before these bounds see it; the deadline still applies.
"""

from __future__ import annotations

import signal
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

DEFAULT_MAX_RESPONSE_BYTES = 16 * 2**20  # 16 MiB: far more than any message or error body
CHUNK = 64 * 1024

__all__ = [
    "CHUNK",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "AnswerTooLarge",
    "Deadline",
    "ExchangeTimeout",
    "TransportFailure",
    "deadline",
    "describe_size",
    "read_capped",
]


class TransportFailure(Exception):
    """An exchange that gave no complete answer within the run's bounds (one sentence)."""


class ExchangeTimeout(TransportFailure):
    """The whole exchange took longer than the target's `timeout`."""


class AnswerTooLarge(TransportFailure):
    """The decoded answer was larger than the target's `max_response_bytes`."""


def describe_size(size: int) -> str:
    """16777216 -> "16 MiB", 1500 -> "1500 bytes"."""
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


class Deadline:
    """The end of one exchange, on the monotonic clock."""

    def __init__(self, seconds: float, where: str) -> None:
        self.seconds = seconds
        self.where = where
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self) -> None:
        if self.remaining() <= 0:
            raise self.failure()

    def failure(self) -> ExchangeTimeout:
        return ExchangeTimeout(f"{self.where}: no complete answer within {self.seconds:g} s (the target's timeout)")


_armed = threading.local()


@contextmanager
def deadline(seconds: float, where: str) -> Iterator[Deadline]:
    """Bound the block to `seconds`; see the module docstring. Not re-entrant: an inner
    deadline inside an armed one is checked between reads only."""
    bound = Deadline(seconds, where)
    use_alarm = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and not getattr(_armed, "on", False)
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not use_alarm:
        yield bound
        return

    def expired(signum, frame):
        raise bound.failure()

    previous = signal.signal(signal.SIGALRM, expired)
    _armed.on = True
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield bound
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _armed.on = False


class _Decoder:
    """gzip / deflate / identity, decoded with a bound on what one call may produce."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._z: zlib._Decompress | None = None
        if encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = None  # decided on the first bytes: zlib-wrapped or raw deflate

    @property
    def identity(self) -> bool:
        return self.encoding not in ("gzip", "x-gzip", "deflate")

    def feed(self, data: bytes, room: int) -> Iterator[bytes]:
        """Decoded pieces of `data`, none longer than `room` (callers stop when full)."""
        if self.identity:
            yield data
            return
        if self._z is None:  # deflate: RFC 9110 says zlib format; some servers send raw deflate
            wrapped = len(data) >= 2 and (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self._z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        while data:
            out = self._z.decompress(data, max(room, 1))
            data = self._z.unconsumed_tail
            if self._z.eof:
                data = self._z.unused_data
                if not data or self.encoding == "deflate":
                    if out:
                        yield out
                    return  # bytes after a deflate stream are ignored, as zlib readers do
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)  # another gzip member (legal)
            if out:
                yield out
                room -= len(out)
            elif not data:
                return


def _bounded(pieces: Iterator[bytes], room: int) -> Iterator[bytes]:
    """The pieces, stopping after the one that fills `room` (the caller then refuses)."""
    for piece in pieces:
        yield piece
        room -= len(piece)
        if room <= 0:
            return


def read_capped(
    raw_chunks: Iterable[bytes], content_encoding: str | None, cap: int, where: str, bound: Deadline | None = None
) -> tuple[bytes, bool]:
    """The answer, decoded, from its raw chunks; raises AnswerTooLarge past `cap` bytes.

    Returns (body, decoded): `decoded` is False when the encoding is not one this module
    decodes (the body is then the raw bytes, capped the same way)."""
    encodings = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
    encodings = [e for e in encodings if e != "identity"]
    decoder = _Decoder(encodings[0] if len(encodings) == 1 else ("identity" if not encodings else "unsupported"))
    parts: list[bytes] = []
    size = 0
    for chunk in raw_chunks:
        if bound is not None:
            bound.check()
        try:
            pieces = list(_bounded(decoder.feed(chunk, cap + 1 - size), cap + 1 - size))
        except zlib.error:
            raise TransportFailure(f"{where}: the answer's {decoder.encoding} encoding is corrupt") from None
        for piece in pieces:
            size += len(piece)
            if size > cap:
                raise AnswerTooLarge(
                    f"{where}: the answer was larger than max_response_bytes ({describe_size(cap)}) and was cut off"
                )
            parts.append(piece)
    return b"".join(parts), not decoder.identity
