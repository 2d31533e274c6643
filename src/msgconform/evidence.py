"""Evidence: one HTTP exchange as text a person can read, and a curl command that repeats it.

Reports (Allure) show the exchanges a judgement rests on. Everything here is redacted
exactly like a cassette (`msgconform.cassettes`): credential headers (`SECRET_HEADERS`,
except the suite's deliberately invalid token), `Set-Cookie`, secret query parameters and
secret keys inside JSON or XML bodies become `PLACEHOLDER`. On top of that a `Scrubber`
replaces every credential value of the targets file wherever it still appears (a header
the vendor echoes, a custom credential header name), so no secret reaches a report.

    exchange = HttpExchange(method="POST", url="http://host/send", request_headers=[...], ...)
    exchange.text(scrubber)   # request and response, bodies cut at BODY_LIMIT
    exchange.curl(scrubber)   # `curl ...`, secrets as $MSGCONFORM_<ROLE>_<HEADER> variables
    mail_text(delivery, scrubber)   # a message a mail sink received, with its envelope

A delivered message is redacted the same way: the run's own values (the sinks' fresh
credentials and per-run addresses, `cassettes.register_run_value`) and the targets'
credentials wherever they appear, its size cut at MAIL_LIMIT.

This module knows nothing about pytest, Schemathesis or Allure: the plugin turns its
exchanges into `HttpExchange`s, the report writers only handle the resulting text.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from msgconform.cassettes import (
    INVALID_TOKEN,
    PLACEHOLDER,
    SECRET_HEADERS,
    SECRET_QUERY,
    VOLATILE_HEADERS,
    redact_body,
    redact_run_values,
)

BODY_LIMIT = 16_384  # characters of a body shown; hostile payloads can be megabytes
MAIL_LIMIT = 65_536  # bytes of a delivered message shown
_RESPONSE_SECRETS = ("set-cookie", *SECRET_HEADERS)
_NOT_FOR_CURL = {"host", "content-length", "connection", "accept-encoding", "user-agent", *VOLATILE_HEADERS}

Headers = list[tuple[str, str]]


class Scrubber:
    """Replaces known secret values (and their credential part, as in ``Bearer X``) anywhere in a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values: set[str] = set()
        for secret in secrets:
            secret = str(secret).strip()
            if not secret or INVALID_TOKEN in secret:
                continue
            values.add(secret)
            scheme, _, credential = secret.partition(" ")
            if credential.strip() and scheme.isalpha():
                values.add(credential.strip())
        # Longest first, so that "Bearer X" goes before "X"; very short values would mangle text.
        self._values = sorted((v for v in values if len(v) >= 4), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, PLACEHOLDER)
        return text


@dataclass
class HttpExchange:
    """One request and its response, in plain values (bodies as bytes, headers as pairs)."""

    method: str
    url: str
    request_headers: Headers = field(default_factory=list)
    request_body: bytes | None = None
    status: int = 0
    response_headers: Headers = field(default_factory=list)
    response_body: bytes = b""
    role: str = ""
    operation: str = ""
    credential_headers: tuple[str, ...] = ()  # header names the targets file puts credentials in

    @property
    def _secret_headers(self) -> set[str]:
        return {*SECRET_HEADERS, *(name.lower() for name in self.credential_headers)}

    @property
    def title(self) -> str:
        """``POST /path -> 201``: the attachment's name."""
        return f"{self.method} {urlsplit(self.url).path} -> {self.status}"

    def redacted_url(self) -> str:
        parts = urlsplit(self.url)
        if not parts.query:
            return self.url
        query = [
            (k, PLACEHOLDER if k.lower() in SECRET_QUERY else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def text(self, scrub: Scrubber | None = None) -> str:
        scrub = scrub or Scrubber()
        lines = [f"{self.method} {self.redacted_url()}"]
        lines += [f"{name}: {value}" for name, value in _redacted(self.request_headers, self._secret_headers)]
        lines += ["", _body_text(self.request_body), ""]
        reason = _reason(self.status)
        about = ", ".join(
            x
            for x in (f"operation {self.operation}" if self.operation else "", f"as {self.role}" if self.role else "")
            if x
        )
        lines.append(f"=> {self.status} {reason}" + (f"   ({about})" if about else ""))
        secret = {*_RESPONSE_SECRETS, *self._secret_headers}
        lines += [f"{name}: {value}" for name, value in _redacted(self.response_headers, secret)]
        lines += ["", _body_text(self.response_body)]
        return scrub("\n".join(lines).rstrip() + "\n")

    def curl(self, scrub: Scrubber | None = None) -> str:
        """A shell command that sends this request again; secrets come from environment variables."""
        scrub = scrub or Scrubber()
        needed: list[str] = []
        command = [f"curl -i -X {self.method} {shlex.quote(self.redacted_url())}"]
        for name, value in self.request_headers:
            lowered = name.lower()
            if lowered in _NOT_FOR_CURL:
                continue
            if lowered in self._secret_headers and INVALID_TOKEN not in value:
                variable = _variable(self.role, name)
                who = self.role or "user"
                needed.append(f'#   export {variable}="<the {who}\'s {name} header>"')
                command.append(f'-H "{name}: ${variable}"')
            else:
                command.append(f"-H {shlex.quote(f'{name}: {value}')}")
        body = redact_body(self.request_body)
        if body:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            command.append(f"--data-binary {shlex.quote(text)}")
        header = ["# Sends the request again. Secrets are placeholders: set them first."] + needed
        if PLACEHOLDER in " ".join(command):
            header.append(f"# Replace {PLACEHOLDER} (a redacted secret in the URL or body) with the real value.")
        return scrub("\n".join(header) + "\n" + " \\\n  ".join(command) + "\n")


def mail_text(delivery, scrub: Scrubber | None = None) -> str:
    """One SMTP transaction (a `msgconform.sink.Delivery`) as text: its envelope, whether
    TLS and AUTH were used, and the message as received, redacted."""
    scrub = scrub or Scrubber()
    raw = redact_run_values(delivery.raw)
    shown = raw[:MAIL_LIMIT].decode("utf-8", "replace")
    if len(raw) > MAIL_LIMIT:
        shown += f"\n[... {len(raw) - MAIL_LIMIT} more bytes not shown]"
    envelope = (
        f"MAIL FROM: {delivery.mail_from}\nRCPT TO: {', '.join(delivery.rcpt_tos)}\n"
        f"TLS: {'yes' if delivery.tls else 'no'}, AUTH: {'yes' if delivery.authenticated else 'no'}\n\n"
    )
    text = redact_run_values((envelope + shown).encode("utf-8")).decode("utf-8", "replace")
    return scrub(text.rstrip() + "\n")


def _redacted(headers: Headers, secret_names: Iterable[str]) -> Headers:
    secret = {name.lower() for name in secret_names}
    return [
        (name, PLACEHOLDER if name.lower() in secret and INVALID_TOKEN not in value else value)
        for name, value in headers
        if name.lower() not in VOLATILE_HEADERS
    ]


def _body_text(body: bytes | str | None) -> str:
    body = redact_body(body)
    if not body:
        return "(no body)"
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if len(text) > BODY_LIMIT:
        return text[:BODY_LIMIT] + f"\n[... {len(text) - BODY_LIMIT} more characters not shown]"
    return text


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _variable(role: str, header: str) -> str:
    name = re.sub(r"[^A-Z0-9]+", "_", f"{role}_{header}".upper()).strip("_")
    return f"MSGCONFORM_{name}"
