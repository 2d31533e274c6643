"""Misbehaving stand-ins for a vendor, and a way to measure what msgconform cost to test them.

    with hostile_server("trickle") as base_url:      # http://127.0.0.1:PORT
        done, max_rss = run_measured("run", "--targets", file, ...)

Each server answers *every* request the same way (status 400, so the preflight sees a
live target that accepts the credentials), in one of three ways issue 19 met:

- ``trickle``: the head at once, then a 116-byte body at one byte every 0.2 s (23 s in
  all, each byte well inside any per-read time-out);
- ``bomb``: ``Content-Encoding: gzip``, a stream that decodes to 2 GiB of zeros (about
  2 MiB on the wire), produced lazily: only what the client reads is ever compressed;
- ``huge``: a 60 MB answer, sent as fast as the client reads it;
- ``slow``: a complete, small answer after half a second (no transport failure at all:
  only ``max_duration`` bounds a run against it).

The servers run in a thread of the test process, so their own memory is not counted:
`run_measured` runs msgconform under a small wrapper process that reports the peak
resident size of its waited-for descendants (``getrusage(RUSAGE_CHILDREN).ru_maxrss``),
i.e. of msgconform and the suite processes it started.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers import MSGCONFORM, Completed, child_env

import subprocess

TRICKLE_BODY = json.dumps({"Message": "The request is invalid.", "ModelState": {"message": ["x" * 40]}},
                          separators=(",", ":")).encode()[:116].ljust(116, b" ")
TRICKLE_INTERVAL = 0.2
BOMB_DECODED = 2 * 2**30
HUGE = 60_000_000


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "trickle"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        try:
            getattr(self, f"_{self.mode}")()
        except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _any

    def _head(self, length: int | None, **headers: str) -> None:
        self.send_response(400)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.flush()

    def _trickle(self) -> None:
        self._head(len(TRICKLE_BODY))
        for byte in TRICKLE_BODY:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(TRICKLE_INTERVAL)

    def _bomb(self) -> None:
        self.close_connection = True  # no Content-Length: the body ends with the connection
        self._head(None, Content_Encoding="gzip", Connection="close")
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        zeros = bytes(2**20)
        for _ in range(BOMB_DECODED // len(zeros)):
            piece = compressor.compress(zeros)
            if piece:
                self.wfile.write(piece)
        self.wfile.write(compressor.flush())

    def _slow(self) -> None:
        time.sleep(0.5)
        self._head(len(TRICKLE_BODY))
        self.wfile.write(TRICKLE_BODY)

    def _huge(self) -> None:
        self._head(HUGE)
        block = b"0" * 2**20
        sent = 0
        while sent < HUGE:
            piece = block[: HUGE - sent]
            self.wfile.write(piece)
            sent += len(piece)


@contextmanager
def hostile_server(mode: str) -> Iterator[str]:
    handler = type(f"{mode.title()}Handler", (_Handler,), {"mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def itslearning_targets(base_url: str, **limits: object) -> str:
    """A targets file naming `base_url` as itslearning, with `limits` as API keys."""
    lines = ["[itslearning]", f'base_url = "{base_url}"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in limits.items()]
    for number, role in enumerate(("sender", "recipient", "bcc", "outsider"), start=1):
        lines += ["", f"[itslearning.users.{role}]", f"id = {1000 + number}", f'token = "{role}-token"']
    return "\n".join(lines) + "\n"


_WRAPPER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True, text=True)
sys.stdout.write(done.stdout)
sys.stderr.write(done.stderr)
print(f"\\nMAXRSS_KIB={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(done.returncode)
"""


def without_html() -> dict[str, str]:
    """An environment for msgconform with no Node.js on PATH: no HTML report (it is not what
    these tests are about, and building it costs seconds per run)."""
    return child_env(PATH=os.path.dirname(sys.executable))


def run_measured(*args: object, timeout: float) -> tuple[Completed, int]:
    """Run `msgconform ARGS...`; the result and the peak RSS (bytes) of msgconform and its children."""
    started = time.monotonic()
    process = subprocess.run([sys.executable, "-c", _WRAPPER, *MSGCONFORM, *map(str, args)],
                             env=without_html(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=timeout)
    stderr, _, figure = process.stderr.rpartition("\nMAXRSS_KIB=")
    done = Completed(process.returncode, process.stdout, stderr, time.monotonic() - started)
    return done, int(figure.strip()) * 1024
