"""The SuperOffice reference server: the EMail agent's SendEMails as seed 004 (and the
Swagger facts of notes/vendors.md) describe it, really sending mail, with every named
fault and variant of faults.yaml.

    POST /api/v1/Agents/EMail/SendEMails[?$select=...]   {OutgoingConnectionInfo, Emails, ...}
        -> 200 + the sent e-mails (an array of EMailEntity)

Design, in the order a request meets it:
- Routing (404, 405), then credentials: `Authorization` with Basic, SOTicket or Bearer
  (scheme names case-insensitive) for the one agent user; otherwise 401 with the error
  object. Every refusal carries SuperOffice's `{"Error": true, "ErrorType", "ErrorMessage",
  "ErrorSource"}` (XML when XML is asked for).
- The body: JSON (also json-patch+json and merge-patch+json, read as JSON, as the WebAPI's
  formatters do), XML through the spec-driven codec, anything else 415; a body that does not
  bind 400. Enums bind from names and, as Json.NET does, from integers.
- Sending: each e-mail that is plainly new (IsSent false, no Draft flag) is built with the
  standard `email` package and sent with `smtplib` through OutgoingConnectionInfo.ServerName
  (`host[:port]`), with STARTTLS when UseSSL is true and AUTH when offered; with
  SentItemsConnectionInfo, a copy of each goes into that IMAP folder (`imaplib` APPEND). The server sends
  ONLY to loopback addresses: `serve` may bind another interface, and the reference server
  must never become an open mail client. Every SMTP step is bounded (10 s). A mail server
  failure answers 500 with the error object (variant smtp-failure-200: 200, IsSent false).
- The answer: one EMailEntity per e-mail, in request order, with IsSent, Sent, Size (the
  delivered size) and MessageID filled in; `$select` keeps the named properties and nulls
  the other reference-typed ones.

Blocking SMTP runs in Starlette's thread pool, never on the event loop.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.policy
import imaplib
import ipaddress
import smtplib
import ssl
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from msgconform import specs
from msgconform.servers._base import Endpoint, ReferenceServer, fault_set
from msgconform.servers._http import JSON_TYPES, XML_TYPES, MalformedBody, media_type
from msgconform.servers.faults import FaultSet

API = "superoffice"
PATH = "/api/v1/Agents/EMail/SendEMails"
SMTP_TIMEOUT = 10.0
SMTP_POLICY = email.policy.SMTP  # the default policy with CRLF line endings, as SMTP wants them
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json")

AGENT_EMAIL = "agent@example.test"
AGENT_NAME = "Agnes Agent"
_BASIC = base64.b64encode(b"msgconform-agent:agent-password").decode()
_CREDENTIALS = {("basic", _BASIC), ("soticket", "7T:msgconform-agent-ticket"), ("bearer", "8A:msgconform-agent-token")}


def target_users() -> dict[str, dict[str, Any]]:
    """The users a targets file names for this server: role -> {email, name, headers}."""
    return {"sender": {"email": AGENT_EMAIL, "name": AGENT_NAME, "headers": {"Authorization": f"Basic {_BASIC}"}}}


PRIORITIES = ("NoPriority", "Highest", "High", "Normal", "Low", "Lowest")
FLAGS = ("None", "Seen", "Deleted", "Recent", "Flagged", "Draft", "Answered")
_FLAG_BITS = {name: (0 if i == 0 else 1 << (i - 1)) for i, name in enumerate(FLAGS)}
CAL_METHODS = ("Unknown", "Add", "Cancel", "Counter", "DeclineCounter", "Publish", "Refresh", "Reply", "Request")
CAL_REPLY = ("Unknown", "Accepted", "Declined", "Tentative")
_X_PRIORITY = {
    "Highest": "1 (Highest)",
    "High": "2 (High)",
    "Normal": "3 (Normal)",
    "Low": "4 (Low)",
    "Lowest": "5 (Lowest)",
}
_IMPORTANCE = {"Highest": "high", "High": "high", "Normal": "normal", "Low": "low", "Lowest": "low"}

# Reference-typed members of EMailEntity (null when not set; `$select` nulls them out) and
# value-typed ones with their defaults (never null).
_REFERENCE = specs.nullable_properties(specs.load(API), "EMailEntity")
_VALUES = {
    "Sent": "0001-01-01T00:00:00",
    "Size": 0,
    "Priority": "NoPriority",
    "Flags": "None",
    "IsSent": False,
    "ServerId": 0,
    "EmailItemId": 0,
    "AccountId": 0,
    "ReceivedAt": "0001-01-01T00:00:00",
    "RepliedAt": "0001-01-01T00:00:00",
    "HasCalendarData": False,
    "CalMethod": "Unknown",
    "CalReplyStatus": "Unknown",
}
_ENUM_NUMBERS = {"Priority": PRIORITIES, "CalMethod": CAL_METHODS, "CalReplyStatus": CAL_REPLY}


class _BadRequest(Exception):
    """The body does not bind, or cannot be sent as it is (400)."""


class _SmtpFailure(Exception):
    """The mail server refused or failed (500 unless smtp-failure-200)."""


# --- binding the request ------------------------------------------------------------------


def _string(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _BadRequest(f"{where} is not a string")


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _BadRequest(f"{where} is not an array")
    return value


def _object(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _BadRequest(f"{where} is not an object")
    return value


def _enum(value: Any, names: tuple[str, ...], where: str) -> str:
    if value is None:
        raise _BadRequest(f"{where} cannot be null")
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < len(names):
            return names[value]
        raise _BadRequest(f"{where}: {value} is not a value of the enum")
    if isinstance(value, str) and value.strip().lower() in {n.lower() for n in names}:
        return next(n for n in names if n.lower() == value.strip().lower())
    raise _BadRequest(f"{where}: not a name of the enum")


def _flags(value: Any, where: str) -> list[str]:
    if value is None:
        raise _BadRequest(f"{where} cannot be null")
    if isinstance(value, int) and not isinstance(value, bool):
        return [n for n, bit in _FLAG_BITS.items() if bit and value & bit] or ["None"]
    if not isinstance(value, str):
        raise _BadRequest(f"{where} is not a flag list")
    names = [part.strip() for part in value.replace(",", " ").split()]
    lowered = {n.lower(): n for n in FLAGS}
    if not names or any(n.lower() not in lowered for n in names):
        raise _BadRequest(f"{where}: not a list of flag names")
    chosen = [lowered[n.lower()] for n in names]
    return [n for n in FLAGS if n in chosen and n != "None"] or ["None"]


def _integer(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31:
        return value
    raise _BadRequest(f"{where} is not an int32")


def _boolean(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _BadRequest(f"{where} is not a boolean")


def _date(value: Any, where: str) -> str:
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)  # 7 fractional digits and "Z" included (Python 3.11)
            return value
        except ValueError:
            pass
    raise _BadRequest(f"{where} is not a date-time")


def _address(value: Any, where: str) -> dict[str, Any]:
    value = _object(value, where)
    if value is None:
        raise _BadRequest(f"{where} is null")
    out = dict(value)
    for key in ("ContactName", "PersonName", "Address", "Name"):
        _string(value.get(key), f"{where}.{key}")
    for key in ("ContactId", "PersonId", "AssociateId", "EmailId"):
        if key in value:
            _integer(value[key], f"{where}.{key}")
    for index, item in enumerate(_list(value.get("DuplicatePersonIds"), f"{where}.DuplicatePersonIds")):
        _integer(item, f"{where}.DuplicatePersonIds[{index}]")
    return out


def _attachment(value: Any, where: str) -> dict[str, Any]:
    value = _object(value, where)
    if value is None:
        raise _BadRequest(f"{where} is null")
    for key in ("Description", "Filename", "Type", "Encoding", "Id", "Disposition"):
        _string(value.get(key), f"{where}.{key}")
    stream = _string(value.get("Stream"), f"{where}.Stream")
    if "Size" in value:
        _integer(value["Size"], f"{where}.Size")
    if "IsSafeFileExtension" in value:
        _boolean(value["IsSafeFileExtension"], f"{where}.IsSafeFileExtension")
    try:
        data = base64.b64decode(stream or "", validate=True)
    except (binascii.Error, ValueError):
        raise _BadRequest(f"{where}.Stream is not base64") from None
    return {**value, "_bytes": data}


def _header(value: Any, where: str) -> tuple[str, list[str]]:
    value = _object(value, where)
    if value is None:
        raise _BadRequest(f"{where} is null")
    name = _string(value.get("Name"), f"{where}.Name")
    values = [
        _string(v, f"{where}.Values[{i}]") or "" for i, v in enumerate(_list(value.get("Values"), f"{where}.Values"))
    ]
    if not name or any(c in name for c in ": \r\n") or any("\r" in v or "\n" in v for v in values):
        raise _BadRequest(f"{where} is not a header that can be written")
    return name, values


def _email(value: Any, where: str) -> dict[str, Any]:
    value = _object(value, where)
    if value is None:
        raise _BadRequest(f"{where} is null")
    email = dict(value)
    for key in ("To", "Cc", "Bcc"):
        email[key] = (
            [_address(a, f"{where}.{key}[{i}]") for i, a in enumerate(_list(value.get(key), f"{where}.{key}"))]
            if value.get(key) is not None
            else None
        )
    for key in ("Subject", "HTMLBody", "MessageID", "PlainBody", "FolderName"):
        _string(value.get(key), f"{where}.{key}")
    if value.get("From") is not None:
        email["From"] = _address(value["From"], f"{where}.From")
    email["_attachments"] = [
        _attachment(a, f"{where}.Attachments[{i}]")
        for i, a in enumerate(_list(value.get("Attachments"), f"{where}.Attachments"))
    ]
    email["_headers"] = [
        _header(h, f"{where}.CustomHeaderList[{i}]")
        for i, h in enumerate(_list(value.get("CustomHeaderList"), f"{where}.CustomHeaderList"))
    ]
    for key, names in _ENUM_NUMBERS.items():
        if key in value:
            email[key] = _enum(value[key], names, f"{where}.{key}")
    email["_flags"] = _flags(value["Flags"], f"{where}.Flags") if "Flags" in value else ["None"]
    for key in ("Size", "ServerId", "EmailItemId", "AccountId"):
        if key in value:
            _integer(value[key], f"{where}.{key}")
    for key in ("IsSent", "HasCalendarData"):
        if key in value:
            _boolean(value[key], f"{where}.{key}")
    for key in ("Sent", "ReceivedAt", "RepliedAt"):
        if key in value:
            _date(value[key], f"{where}.{key}")
    for key in ("EMailSOInfo", "InReplyTo", "TableRight", "FieldProperties"):
        _object(value.get(key), f"{where}.{key}")
    return email


def _connection(value: Any, where: str) -> dict[str, Any] | None:
    value = _object(value, where)
    if value is None:
        return None
    for key in ("ServerName", "UserName", "Password", "Folder"):
        _string(value.get(key), f"{where}.{key}")
    if "UseSSL" in value:
        _boolean(value["UseSSL"], f"{where}.UseSSL")
    return value


def _server_address(server_name: str | None, default_port: int = 25) -> tuple[str, int]:
    """`host[:port]` -> (host, port), refusing any host that is not a loopback address."""
    if not server_name:
        raise _BadRequest("OutgoingConnectionInfo.ServerName is empty: no mail server to send through")
    host, port = server_name.strip(), default_port
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        if rest.startswith(":"):
            port = _port(rest[1:])
    elif host.count(":") == 1:
        host, _, text = host.partition(":")
        port = _port(text)
    try:
        loopback = host.lower() == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise _BadRequest("this reference server sends mail only to a loopback address (127.0.0.1, ::1, localhost)")
    return host, port


def _port(text: str) -> int:
    if text.isdigit() and 0 < int(text) < 65536:
        return int(text)
    raise _BadRequest("OutgoingConnectionInfo.ServerName has no valid port after ':'")


def _is_new(email: dict[str, Any]) -> bool:
    return not email.get("IsSent") and "Draft" not in email["_flags"]


# --- building and sending --------------------------------------------------------------------


def _addr(address: dict[str, Any]) -> str:
    return formataddr((address.get("Name") or "", address.get("Address") or ""))


class _Server(ReferenceServer):
    API = API

    def new_store(self) -> None:
        return None  # nothing is kept: every e-mail goes to the SMTP server named in the request

    # -- responses

    def respond(self, body: bytes, status: int, media: str, headers: dict[str, str] | None = None) -> Response:
        content_type = f"{media}; charset=utf-8" if self.faults.on("charset-params") else media
        return Response(body, status, {**(headers or {}), "Content-Type": content_type})

    def error(
        self, request: Request, status: int, kind: str, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        if self.faults.on("error-body-text"):
            return self.respond(message.encode(), status, "text/plain", headers)
        value = {"Error": True, "ErrorType": kind, "ErrorMessage": message, "ErrorSource": "EMailAgent.SendEMails"}
        body, media = self.bodies.write_or_json(value, "Error", self.bodies.negotiate(request.headers.get("accept")))
        return self.respond(body, status, media, headers)

    # -- the endpoint

    def authorized(self, request: Request) -> bool:
        scheme, _, credential = request.headers.get("authorization", "").strip().partition(" ")
        return (scheme.lower(), credential.strip()) in _CREDENTIALS or self.faults.on("auth-ignored")

    async def endpoint(self, request: Request) -> Response:
        if request.method != "POST":
            return self.error(
                request, 405, "MethodNotAllowed", f"{request.method} is not allowed here", {"Allow": "POST"}
            )
        if not self.authorized(request):
            if self.faults.on("sends-unauthorized"):  # the e-mails go out, the answer is 401 all the same
                with contextlib.suppress(Exception):
                    await self.send(request)
            return self.error(
                request,
                401,
                "Unauthorized",
                "Authentication required",
                {"WWW-Authenticate": 'Basic realm="SuperOffice"'},
            )
        try:
            return await self.send(request)
        except _BadRequest as exc:
            if self.faults.on("500-on-malformed"):
                return self.error(request, 500, "NullReferenceException", "Object reference not set")
            return self.error(request, 400, "BadRequest", str(exc))
        except Exception:  # noqa: BLE001 - by contract no input may cause a 5xx
            return self.error(request, 400, "BadRequest", "The request could not be processed")

    async def send(self, request: Request) -> Response:
        content_type = request.headers.get("content-type")
        kind = media_type(content_type)[0]
        raw = await request.body()
        if kind in PATCH_TYPES:
            content_type = "application/json"
        elif kind not in JSON_TYPES + XML_TYPES:
            return self.error(request, 415, "UnsupportedMediaType", f"The media type '{kind or 'none'}' is not read")
        try:
            value = self.bodies.read(raw, content_type, "SendEMailsRequest").value
        except MalformedBody as exc:
            if self.faults.on("malformed-accepted"):
                return self.answer(request, [])
            raise _BadRequest(str(exc)) from None
        body = _object(value, "the body") or {}
        outgoing = _connection(body.get("OutgoingConnectionInfo"), "OutgoingConnectionInfo")
        sent_items = _connection(body.get("SentItemsConnectionInfo"), "SentItemsConnectionInfo")
        emails = [_email(e, f"Emails[{i}]") for i, e in enumerate(_list(body.get("Emails"), "Emails"))]
        new = [e for e in emails if _is_new(e)]
        if new and outgoing is None:
            raise _BadRequest("OutgoingConnectionInfo is required to send e-mails")
        try:
            if new and not self.faults.on("no-delivery"):
                assert outgoing is not None  # new e-mails without OutgoingConnectionInfo were refused above
                await run_in_threadpool(self.deliver, outgoing, new)
                if sent_items is not None and sent_items.get("ServerName"):
                    await run_in_threadpool(self.store_copies, sent_items, new)
        except _SmtpFailure as exc:
            if not self.faults.on("smtp-failure-200"):
                return self.error(request, 500, "SmtpException", str(exc))
            for email in new:
                email.setdefault("_raw", None)
        entities = [self.entity(e, request) for e in emails]
        return self.answer(request, entities)

    def answer(self, request: Request, entities: list[dict[str, Any]]) -> Response:
        on = self.faults.on
        select = request.query_params.get("$select")
        if select and not on("select-ignored"):
            entities = [self.selected(e, select) for e in entities]
        if on("reversed-answer"):
            entities = entities[::-1]
        if on("one-entity-for-batch"):
            entities = entities[:1]
        if on("enums-as-numbers"):
            for e in entities:
                for key, names in _ENUM_NUMBERS.items():
                    if isinstance(e.get(key), str):
                        e[key] = names.index(e[key])
        media = self.bodies.negotiate(request.headers.get("accept"))
        if media in XML_TYPES and on("xml-served-as-json"):
            media = "application/json"
        elif media in JSON_TYPES and on("json-served-as-xml"):
            media = "application/xml"
        value: Any = {"EMailEntity": entities} if on("not-an-array") else entities
        body, media = self.bodies.write_or_json(value, "EMailEntityArray", media)
        headers = {"Content-Language": "sv"} if request.headers.get("accept-language", "").startswith("sv") else None
        return self.respond(body, 200, media, headers)

    def selected(self, entity: dict[str, Any], select: str) -> dict[str, Any]:
        wanted = {part.strip().split("/")[0].lower() for part in select.split(",") if part.strip()}
        out: dict[str, Any] = {}
        for key, value in entity.items():
            if key.lower() in wanted or key in _VALUES:
                out[key] = value
            elif not self.faults.on("select-absent"):
                out[key] = None
        return out

    def entity(self, email: dict[str, Any], request: Request) -> dict[str, Any]:
        """The answer for one e-mail: every member, reference types null when unset."""
        out: dict[str, Any] = {key: email.get(key) for key in _REFERENCE}
        out.update({key: email.get(key, default) for key, default in _VALUES.items()})
        out["Flags"] = ", ".join(email["_flags"])
        raw = email.get("_raw")
        if raw is not None:
            out["IsSent"] = True
            out["Sent"] = _now(request.headers.get("so-timezone"), self.faults.on("timezone-ignored"))
            out["Size"] = len(raw)
            out["MessageID"] = email["_message_id"]
        return out

    def deliver(self, outgoing: dict[str, Any], emails: list[dict[str, Any]]) -> None:
        host, port = _server_address(outgoing.get("ServerName"))
        built = [self.build(e) for e in emails]
        try:
            if self.faults.on("one-smtp-connection"):
                with self.connect(host, port, outgoing) as smtp:
                    for email, (message, recipients) in zip(emails, built, strict=True):
                        self.transmit(smtp, email, message, recipients)
            else:
                for email, (message, recipients) in zip(emails, built, strict=True):
                    with self.connect(host, port, outgoing) as smtp:
                        self.transmit(smtp, email, message, recipients)
        except (smtplib.SMTPException, OSError) as exc:
            raise _SmtpFailure(f"the mail server failed: {type(exc).__name__}: {_short(exc)}") from None

    def store_copies(self, sent_items: dict[str, Any], emails: list[dict[str, Any]]) -> None:
        """A copy of each sent e-mail into the IMAP folder SentItemsConnectionInfo names
        (loopback only, like sending). The seed does not say what a failure here means: the
        e-mails are sent, so it is not reported."""
        try:
            host, port = _server_address(sent_items.get("ServerName"), default_port=143)
        except _BadRequest:
            return
        try:
            with imaplib.IMAP4(host, port, timeout=SMTP_TIMEOUT) as imap:
                if sent_items.get("UseSSL") and "STARTTLS" in imap.capabilities:
                    imap.starttls(ssl._create_unverified_context())  # throw-away certificates
                imap.login(sent_items.get("UserName") or "", sent_items.get("Password") or "")
                for email in emails:
                    if email.get("_raw"):
                        imap.append(sent_items.get("Folder") or "Sent", "\\Seen", None, email["_raw"])
        except (imaplib.IMAP4.error, OSError):
            pass

    def connect(self, host: str, port: int, outgoing: dict[str, Any]) -> smtplib.SMTP:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT, local_hostname="msgconform-superoffice")
        try:
            smtp.ehlo()
            if outgoing.get("UseSSL") and not self.faults.on("no-starttls"):
                # The sink's certificate comes from a throw-away CA: nothing can verify it.
                smtp.starttls(context=ssl._create_unverified_context())
                smtp.ehlo()
            if smtp.has_extn("auth") and outgoing.get("UserName"):
                smtp.login(outgoing["UserName"], outgoing.get("Password") or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def transmit(self, smtp: smtplib.SMTP, email: dict[str, Any], message: EmailMessage, recipients: list[str]) -> None:
        raw = message.as_bytes(policy=SMTP_POLICY)  # smtplib sends bytes as they are: CRLF here
        sender = (email.get("From") or {}).get("Address") or AGENT_EMAIL
        refused: dict = {}
        if self.faults.on("per-recipient-copies"):
            for recipient in recipients:
                refused.update(smtp.sendmail(sender, [recipient], raw))
        else:
            refused = smtp.sendmail(sender, recipients, raw)
        if refused:  # some recipients were refused: the e-mail did not reach everyone
            raise smtplib.SMTPRecipientsRefused(refused)
        email["_raw"] = raw

    def build(self, email: dict[str, Any]) -> tuple[EmailMessage, list[str]]:
        on = self.faults.on
        message = EmailMessage()
        sender = email.get("From") or {"Address": AGENT_EMAIL, "Name": AGENT_NAME}
        message["From"] = _addr(sender)
        to = [a for a in email.get("To") or [] if a.get("Address")]
        cc = [a for a in email.get("Cc") or [] if a.get("Address")]
        bcc = [a for a in email.get("Bcc") or [] if a.get("Address")]
        if to:
            message["To"] = ", ".join(_addr(a) for a in to)
        if cc:
            message["Cc"] = ", ".join(_addr(a) for a in cc)
        if bcc and on("bcc-header-leaked"):
            message["Bcc"] = ", ".join(_addr(a) for a in bcc)
        subject = email.get("Subject") or ""
        message["Subject"] = f"[SuperOffice] {subject}" if on("subject-mangled") else subject
        message["Date"] = formatdate(localtime=False)
        given = (email.get("MessageID") or "").strip()
        if given and not on("message-id-generated"):
            message_id = given if given.startswith("<") else f"<{given}>"
        else:
            message_id = make_msgid(domain="msgconform.superoffice.test")
        message["Message-ID"] = message_id
        email["_message_id"] = message_id.strip("<>")
        priority = email.get("Priority", "NoPriority")
        if priority in _X_PRIORITY:
            if on("importance-header"):
                message["Importance"] = _IMPORTANCE[priority]
            else:
                message["X-Priority"] = _X_PRIORITY[priority]
        if not on("custom-headers-ignored"):
            for name, values in email["_headers"]:
                for value in values:
                    message[name] = value
        plain, html = email.get("PlainBody"), email.get("HTMLBody")
        if plain is not None or html is None:
            message.set_content(plain or "")
            if html is not None and not on("html-body-dropped"):
                message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
        for attachment in email["_attachments"]:
            kind = attachment.get("Type") or "application/octet-stream"
            maintype, _, subtype = kind.split(";")[0].strip().lower().partition("/")
            if maintype in ("multipart", "message") or not maintype or not subtype:
                maintype, subtype = "application", "octet-stream"
            data = attachment["_bytes"]
            if on("attachment-bytes-mangled"):
                data = (attachment.get("Stream") or "").encode()
            message.add_attachment(
                data,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=attachment.get("Filename") or "attachment",
            )
        if not to + cc + bcc:
            raise _BadRequest("an e-mail needs at least one recipient with an Address")
        if any(len(line) > 998 for line in message.as_bytes().split(b"\n")):
            raise _BadRequest("a header of the e-mail is too long to be sent (RFC 5322: 998 characters a line)")
        recipients = [a["Address"] for a in to + cc + ([] if on("bcc-not-delivered") else bcc)]
        return message, list(dict.fromkeys(recipients))

    async def no_route(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        return self.error(
            request, status, "NotFound" if status == 404 else "Error", f"No resource at {request.url.path}"
        )


def _now(zone: str | None, ignore_zone: bool) -> str:
    """Now, as SuperOffice writes dates: a local offset and 7 fractional digits; in the zone
    SO-TimeZone names when it is an IANA name this server knows."""
    tz: Any = timezone(timedelta(hours=1))
    if zone and not ignore_zone:
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo(zone.strip())
    now = datetime.now(tz)
    offset = now.strftime("%z")
    return now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0" + (f"{offset[:3]}:{offset[3:]}" if offset else "")


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160]


def create_app(faults: Iterable[str] | FaultSet = ()) -> Any:
    """A fresh SuperOffice server with the named faults and variants on."""
    server = _Server(fault_set(faults, API))
    return Starlette(
        routes=[Route(PATH, Endpoint(server.endpoint))], exception_handlers={HTTPException: server.no_route}
    )


__all__ = ["API", "PATH", "create_app", "target_users"]
