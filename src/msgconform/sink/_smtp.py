"""The SMTP sink: aiosmtpd on an event loop of its own, in a daemon thread.

Design:
- We bind the listening socket ourselves (port 0 = a free one) and hand it to
  `loop.create_server`, so the port is known before anyone connects; aiosmtpd's
  `Controller` cannot do port 0 (its readiness probe connects to the port it was given).
- AUTH (PLAIN, LOGIN) is offered on the plain connection too (`auth_require_tls=False`:
  a target may not use STARTTLS) and accepts only the credentials made fresh for this
  sink (`secrets`); they are compared in constant time and never logged.
- STARTTLS is offered with a certificate from a throw-away CA (trustme), for the host the
  sink is advertised as; nothing trusts that CA, so a target that verifies certificates
  cannot use STARTTLS here and is expected to send in the clear (reported, never judged).
- Nothing is relayed: every message is kept in the `Mailbox` and answered 250.
- `refuse(address)` makes RCPT TO of that address fail with 550, `drop(address)` makes the
  sink close the connection at it: the stories that observe what a target answers then.
- Bounds: messages up to 10 MiB, a 30 s idle timeout per connection, the mailbox's count
  limit; `stop()` closes the server and waits at most a few seconds for the thread.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import secrets
import socket
import ssl
import threading
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from msgconform.sink._mailbox import Delivery, Mailbox

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
IDLE_TIMEOUT = 30
START_TIMEOUT = 5.0

# aiosmtpd logs to "mail.log": a deprecation warning on every successful AUTH (about its own
# legacy attribute) and, at debug level, the commands it reads. Errors only.
logging.getLogger("mail.log").setLevel(logging.ERROR)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (for a sink whose address must be known early)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        lowered = address.lower()
        if lowered in self.sink._drop:
            server.transport.close()
            return "421 4.3.0 msgconform sink: closing the connection, as the test asked"
        if lowered in self.sink._refuse:
            return "550 5.1.1 msgconform sink: mailbox unavailable, as the test asked"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        delivery = Delivery(
            mail_from=str(envelope.mail_from or ""),
            rcpt_tos=tuple(str(r) for r in envelope.rcpt_tos),
            raw=bytes(envelope.original_content or envelope.content or b""),
            tls=session.ssl is not None,
            authenticated=bool(session.authenticated),
        )
        if not self.sink.mailbox.add(delivery):
            return "452 4.3.1 msgconform sink: too many messages"
        return "250 OK: kept by the msgconform sink, relayed to no one"


class SmtpSink:
    """A capturing SMTP server; see the module docstring. Use as a context manager."""

    def __init__(
        self,
        listen: str = "127.0.0.1",
        port: int = 0,
        advertise: str | None = None,
        *,
        tls: bool = True,
        mailbox: Mailbox | None = None,
    ) -> None:
        self.listen = listen
        self.requested_port = port
        self.advertise = advertise or listen
        self.username = "msgconform-" + secrets.token_hex(6)
        self.password = secrets.token_urlsafe(18)
        self.mailbox = mailbox or Mailbox()
        self.tls = tls
        self.port = 0
        self._refuse: set[str] = set()
        self._drop: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._client_context: ssl.SSLContext | None = None

    # --- what a target is told ---------------------------------------------------------

    @property
    def server_name(self) -> str:
        """`host:port`, as EMailConnectionInfo.ServerName takes it."""
        host = f"[{self.advertise}]" if ":" in self.advertise else self.advertise
        return f"{host}:{self.port}"

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts this sink's throw-away CA (for tests)."""
        if self._client_context is None:
            raise RuntimeError("the sink has not started, or offers no TLS")
        return self._client_context

    # --- what a test asks of it ----------------------------------------------------------

    def refuse(self, address: str) -> None:
        self._refuse.add(address.lower())

    def drop(self, address: str) -> None:
        self._drop.add(address.lower())

    # --- life cycle ------------------------------------------------------------------------

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = hmac.compare_digest(data.login, self.username.encode()) & hmac.compare_digest(
            data.password, self.password.encode()
        )
        return AuthResult(success=bool(ok), handled=False)

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        ca = trustme.CA()
        names = [self.advertise, "localhost"]
        try:
            ipaddress.ip_address(self.listen)
            names.append(self.listen)
        except ValueError:
            pass
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*dict.fromkeys(names)).configure_cert(server_context)
        client = ssl.create_default_context()
        ca.configure_trust(client)
        self._client_context = client
        return server_context

    def start(self) -> SmtpSink:
        family = socket.AF_INET6 if ":" in self.listen else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
        # without it each multi-line reply (EHLO) waited 40 ms for the client's delayed ACK
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.listen, self.requested_port))
        except OSError as exc:
            sock.close()
            raise OSError(
                f"the SMTP sink cannot listen on {self.listen} port {self.requested_port}: {exc.strerror or exc}"
            ) from None
        sock.listen(50)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        context = self._tls_context()
        handler = _Handler(self)
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()

        def factory() -> SMTP:
            return SMTP(
                handler,
                hostname=self.advertise,
                ident="msgconform sink",
                tls_context=context,
                require_starttls=False,
                auth_require_tls=False,
                authenticator=self._authenticate,
                data_size_limit=MAX_MESSAGE_BYTES,
                timeout=IDLE_TIMEOUT,
                loop=loop,
            )

        def run() -> None:
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(loop.create_server(factory, sock=sock))
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="msgconform-smtp-sink", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT):
            raise RuntimeError("the SMTP sink did not start")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=START_TIMEOUT)
        self._loop = self._thread = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
