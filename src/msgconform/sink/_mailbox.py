"""What the sink received: deliveries, kept in arrival order, waited for once per test.

A `Delivery` is one SMTP transaction: the envelope (MAIL FROM, RCPT TO), the raw message,
whether it came over TLS and after AUTH. `message` parses it with `email.policy.default`.
`Mailbox.wait_for(predicate, timeout)` blocks until the predicate holds over the deliveries
or the timeout passes, whichever is first: a target that delivers nothing costs one timeout
per test, never one per request.

`to_record`/`from_record` give a JSON-ready form (the raw message in base64) for cassettes.
"""

from __future__ import annotations

import base64
import email
import email.policy
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cached_property
from typing import Any

MAX_DELIVERIES = 2000  # a runaway target cannot fill the memory


@dataclass(frozen=True)
class Delivery:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    tls: bool = False
    authenticated: bool = False

    @cached_property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    def mentions(self, token: str) -> bool:
        """Whether this delivery carries the run's token (in a recipient or the Subject)."""
        if any(token in address for address in self.rcpt_tos):
            return True
        try:
            subject = str(self.message.get("Subject", ""))
        except Exception:  # noqa: BLE001 - a header the parser cannot decode carries no token
            return False
        return token in subject

    def to_record(self) -> dict[str, Any]:
        return {
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "tls": self.tls,
            "authenticated": self.authenticated,
            "raw": base64.b64encode(self.raw).decode("ascii"),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Delivery:
        return cls(
            mail_from=str(record["mail_from"]),
            rcpt_tos=tuple(str(r) for r in record["rcpt_tos"]),
            raw=base64.b64decode(record["raw"]),
            tls=bool(record.get("tls")),
            authenticated=bool(record.get("authenticated")),
        )


@dataclass
class Mailbox:
    """Deliveries in arrival order, shared between the sink's thread and the tests."""

    deliveries: list[Delivery] = field(default_factory=list)
    dropped: int = 0  # deliveries refused because the mailbox was full
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, delivery: Delivery) -> bool:
        with self._cond:
            if len(self.deliveries) >= MAX_DELIVERIES:
                self.dropped += 1
                return False
            self.deliveries.append(delivery)
            self._cond.notify_all()
            return True

    def extend(self, deliveries: Iterable[Delivery]) -> None:
        for delivery in deliveries:
            self.add(delivery)

    def since(self, mark: int) -> list[Delivery]:
        with self._cond:
            return list(self.deliveries[mark:])

    def mark(self) -> int:
        with self._cond:
            return len(self.deliveries)

    def matching(self, token: str, since: int = 0) -> list[Delivery]:
        return [d for d in self.since(since) if d.mentions(token)]

    def wait_for(self, predicate: Callable[[list[Delivery]], bool], timeout: float, since: int = 0) -> bool:
        """Block until predicate(deliveries since `since`) holds or `timeout` seconds pass."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while True:
                if predicate(list(self.deliveries[since:])):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))

    def settle(self, quiet: float, timeout: float, since: int = 0) -> None:
        """Wait until nothing new arrived for `quiet` seconds (at most `timeout` in all)."""
        deadline = time.monotonic() + timeout
        seen = self.mark()
        last_change = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(min(0.05, quiet))
            now = self.mark()
            if now != seen:
                seen, last_change = now, time.monotonic()
            elif time.monotonic() - last_change >= quiet:
                return
