"""The mail sinks: real mail servers of the run's own, so that a target's e-mails can be
judged by what arrives rather than by what the HTTP answer claims.

    with SmtpSink(listen="127.0.0.1", port=0, advertise="127.0.0.1") as sink:
        sink.server_name                  # "127.0.0.1:40123", for OutgoingConnectionInfo
        sink.username, sink.password      # fresh for this sink, never written anywhere
        ... the target sends ...
        sink.mailbox.wait_for(tokens, timeout=10)
        sink.mailbox.deliveries           # every message, its envelope, TLS and AUTH

- `SmtpSink` (`_smtp`) runs aiosmtpd on its own event loop in a daemon thread: AUTH PLAIN
  and LOGIN with the fresh credentials, STARTTLS with a throw-away certificate (trustme),
  no relaying (every message is kept, none is passed on), size and count bounded.
- `Mailbox` (`_mailbox`) holds the deliveries as they come, lets a test wait once, with a
  bound, for the ones it expects, and turns deliveries to and from JSON-ready records so that
  cassettes carry them and a replay judges them offline.
- `Delivery` parses a message with the standard `email` package (policy `default`).
- `ImapSink` (`_imap`) runs pymap's in-memory IMAP server as a subprocess, for
  SentItemsConnectionInfo, and finds the copies a target stored there.

Core layer: the standard library, aiosmtpd, trustme and the pymap command; no pytest.
"""

from __future__ import annotations

from msgconform.sink._imap import ImapSink
from msgconform.sink._mailbox import Delivery, Mailbox
from msgconform.sink._smtp import SmtpSink, free_port

__all__ = ["Delivery", "ImapSink", "Mailbox", "SmtpSink", "free_port"]
