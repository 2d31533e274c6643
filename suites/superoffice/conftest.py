"""The SuperOffice harness: the SMTP sink, safe e-mails, and a small client for stories.

- The sink (`msgconform.sink.SmtpSink`) starts with the session, live and when recording,
  on `[superoffice.smtp]` `listen`/`port`, and is named to the target as `advertise:port`
  with credentials made fresh for this run. Replay starts no sink: each test's deliveries
  come from the file its recording left beside its cassette (`<test>.mail.json`), so
  delivery is judged offline exactly as it was live.
- Cassettes and reports never hold the sink's credentials or its (per-run) address: both
  are registered with `cassettes.register_run_value` and replaced wherever a body is
  redacted; the address by `cassettes.SMTP_SINK_ADDRESS` (and `IMAP_SINK_ADDRESS`), which
  the manifest names as the sinks' recorded addresses. A replay's stand-in sinks take
  exactly those addresses from the manifest, so its requests are the recorded ones.
- Live safety: every request body passes `Safe.body` (generated ones) or is built by
  `SuperOffice.email` (stories): OutgoingConnectionInfo is the sink's, SentItemsConnectionInfo
  null, every recipient `msgconform+...@example.test` or the sender's own address, every id
  the run does not own 0, EMailSOInfo and InReplyTo null, custom header names starting with
  X-Msgconform- and no CR or LF in any string that can become a header. `max_emails` is a
  budget over every e-mail the run asks for.
- Tokens: each story e-mail carries a token derived from the seed (replayable) in its
  Subject and its recipients' local part; deliveries are matched to e-mails by it.
- Reports: a judgement about deliveries is made inside `recorder.about(so.shown(...))`, so
  that the case's Allure result carries the messages it judged, redacted
  (`evidence.mail_text`: the sinks' values and the targets' credentials replaced).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from vcr.errors import CannotOverwriteExistingCassetteException

from msgconform import cassettes, specs
from msgconform.evidence import Scrubber, mail_text
from msgconform.plugin import generic
from msgconform.plugin.harness import ApiHarness, Exchange, _as_id
from msgconform.sink import Delivery, ImapSink, Mailbox, SmtpSink
from suites.superoffice import checks  # (importing it also registers the response checks)

API = "superoffice"
SEND = "/api/v1/Agents/EMail/SendEMails"
DOMAIN = "example.test"
MARK = "[msgconform]"
DELIVERY_WAIT = 10.0  # seconds: the one bounded wait of a test for its deliveries
SILENT_WAIT = 2.0  # the wait once a full one has passed with nothing delivered in the whole run
FUZZ_RESERVE = 15  # e-mails of max_emails kept for the stories that run after the fuzzer
SHOWN = 5  # delivered messages attached to a judgement in the reports
ID_KEYS = (
    "EmailItemId",
    "AccountId",
    "ServerId",
    "ContactId",
    "PersonId",
    "AssociateId",
    "EmailId",
    "DocumentId",
    "AppointmentId",
    "ProjectId",
    "SaleId",
    "ArchivedBy",
)
BODY_KEYS = ("PlainBody", "HTMLBody", "Stream")  # strings that never become a header line
_HEADER_NAME = re.compile(r"[^A-Za-z0-9-]")


class _ReplaySink:
    """What replay has in place of a sink: the same shape, no socket. Its address is the one
    the manifest names as the recorded sink's; its credentials are made up (they are
    redacted in the cassettes)."""

    folder = "Sent"

    def __init__(self, server_name: str) -> None:
        probe = SmtpSink("127.0.0.1", 0, "127.0.0.1")
        self.username, self.password = probe.username, probe.password
        self.server_name = server_name
        self.mailbox = Mailbox()

    def refuse(self, address: str) -> None:
        pass

    def drop(self, address: str) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass
class Budget:
    """max_emails: how many e-mails the run may still ask the target to send."""

    limit: int | None
    used: int = 0

    def take(self, count: int, reserve: int = 0) -> bool:
        if self.limit is not None and self.used + count > self.limit - reserve:
            return False
        self.used += count
        return True


@dataclass
class Sent:
    """One story request: the e-mails as sent (decoded from the bytes on the wire) and the answer."""

    exchange: Exchange | None
    emails: list[dict[str, Any]]
    tokens: list[str]
    mark: int = 0

    @property
    def accepted(self) -> bool:
        return self.exchange is not None and 200 <= self.exchange.status < 300


@dataclass
class SuperOffice:
    harness: ApiHarness
    sink: Any
    mode: str
    budget: Budget
    imap: Any = None  # the IMAP sink (ImapSink, or its stand-in in replay), when offered
    test_mark: int = 0  # the mailbox's length when the current test started (before replay loads)
    _silent: bool = False  # a full wait has passed and nothing has ever arrived
    facts: dict[str, Any] = field(default_factory=dict)  # what a test read from a sink: recorded, replayed
    fuzz: dict[str, int] = field(
        default_factory=lambda: {
            "requests": 0,
            "accepted": 0,
            "emails": 0,
            "not sent (max_emails)": 0,
            "not sent (safety)": 0,
        }
    )
    _nonce: int = 0

    @property
    def mailbox(self) -> Mailbox:
        return self.sink.mailbox

    @property
    def sender(self):
        return self.harness.target.users["sender"]

    @property
    def recorder(self):
        return self.harness.recorder

    # --- what goes on the wire ------------------------------------------------------------

    def token(self, label: str) -> str:
        self._nonce += 1
        seed = self.harness.settings.seed
        return "T" + hashlib.sha256(f"{seed}:{self._nonce}:{label}".encode()).hexdigest()[:10]

    @staticmethod
    def address(token: str, role: str) -> str:
        return f"msgconform+{token}-{role}@{DOMAIN}"

    def outgoing(self, use_ssl: bool = False) -> dict[str, Any]:
        return {
            "ServerName": self.sink.server_name,
            "UserName": self.sink.username,
            "Password": self.sink.password,
            "Folder": None,
            "UseSSL": use_ssl,
        }

    def sent_items(self) -> dict[str, Any] | None:
        """The IMAP sink as SentItemsConnectionInfo (None when no IMAP sink is offered)."""
        if self.imap is None:
            return None
        return {
            "ServerName": self.imap.server_name,
            "UserName": self.imap.username,
            "Password": self.imap.password,
            "Folder": self.imap.folder,
            "UseSSL": False,
        }

    def email(
        self,
        label: str,
        *,
        to: int = 1,
        cc: int = 0,
        bcc: int = 0,
        plain: str | None = "",
        html: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
        headers: list[tuple[str, list[str]]] | None = None,
        priority: str = "Normal",
        message_id: str | None = None,
        flags: str = "None",
        is_sent: bool = False,
        cc_sender: bool = False,
    ) -> tuple[str, dict[str, Any]]:
        """A plainly new e-mail of a story and its token; every id 0, nothing filed in a CRM."""
        token = self.token(label)

        def people(role: str, count: int) -> list[dict[str, Any]]:
            return [_address(self.address(token, f"{role}{i + 1}"), f"{role.title()} {i + 1}") for i in range(count)]

        cc_list = people("cc", cc) + ([_address(self.sender.email, self.sender.name or "")] if cc_sender else [])
        plain_text = (
            None if plain is None else (plain or f"{MARK} {label} {token}\nThis e-mail was sent by msgconform.")
        )
        email = {
            "To": people("to", to),
            "Cc": cc_list,
            "Bcc": people("bcc", bcc),
            "Subject": f"{MARK} {label} {token}",
            "HTMLBody": html,
            "PlainBody": plain_text,
            "From": _address(self.sender.email, self.sender.name or ""),
            "Priority": priority,
            "Flags": flags,
            "MessageID": message_id,
            "IsSent": is_sent,
            "EMailSOInfo": None,
            "ServerId": 0,
            "EmailItemId": 0,
            "AccountId": 0,
            "InReplyTo": None,
            "Attachments": attachments or [],
            "CustomHeaderList": [{"Name": n, "Values": v} for n, v in (headers or [])],
        }
        return token, email

    def send(
        self,
        emails: list[dict[str, Any]],
        tokens: list[str] | None = None,
        *,
        accept: str = "application/json",
        select: str | None = None,
        headers: dict[str, str] | None = None,
        outgoing: dict[str, Any] | None = None,
        role: str | None = "sender",
        content: bytes | None = None,
        smtp_failure_expected: bool = False,
        sent_items: dict[str, Any] | None = None,
    ) -> Sent:
        """POST SendEMails with these e-mails; judged by the response checks. A request the
        budget cannot afford is not sent (exchange None)."""
        body = {
            "OutgoingConnectionInfo": outgoing or self.outgoing(),
            "Emails": emails,
            "SentItemsConnectionInfo": sent_items,
        }
        raw = content if content is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        if not self.budget.take(len(emails)):
            return Sent(None, emails, tokens or [])
        mark = self.test_mark  # deliveries of earlier sends of this test are told apart by token
        request_headers = {"Content-Type": "application/json", "Accept": accept, **(headers or {})}
        try:
            with self.harness.client(role) as client:
                response = client.post(
                    SEND, params={"$select": select} if select else None, content=raw, headers=request_headers
                )
        except CannotOverwriteExistingCassetteException as exc:
            self.harness._missed(exc)
            return Sent(None, emails, tokens or [], mark)
        except httpx.HTTPError as exc:
            self.recorder.harness(API, f"POST {SEND}: no answer ({type(exc).__name__})")
            return Sent(None, emails, tokens or [], mark)
        wire = _decoded(response.request.content)
        ex = self.harness.exchange_from_httpx(response, role, wire)
        skip = ("SO-HTTP-001", "SO-ERR-001") if smtp_failure_expected else ()
        self.harness.run_checks(ex, [c for c in checks.checks_for(API) if c.case_id not in skip])
        try:
            for followup in self.harness.followups:
                followup(self.harness, ex)
        except CannotOverwriteExistingCassetteException as exc:
            self.harness._missed(exc)
        wire_emails = wire.get("Emails") if isinstance(wire, dict) else None
        sent_emails = wire_emails if isinstance(wire_emails, list) else emails
        return Sent(ex, sent_emails, tokens or [], mark)

    # --- what arrives -----------------------------------------------------------------------

    def wait_for(self, sent: list[Sent]) -> None:
        """The one bounded wait of a test: until every recipient of every accepted new e-mail
        has been delivered to, or DELIVERY_WAIT seconds."""
        expected = [
            (token, set(recipients(email)))
            for s in sent
            if s.accepted
            for token, email in zip(s.tokens, s.emails, strict=False)
            if is_new(email)
        ]
        if not expected:
            return
        since = min(s.mark for s in sent)

        def arrived(deliveries: list[Delivery]) -> bool:
            for token, wanted in expected:
                got = {r.lower() for d in deliveries if d.mentions(token) for r in d.rcpt_tos}
                if not wanted <= got:
                    return False
            return True

        if self.mode == "replay":
            timeout = 0.0
        elif self._silent and not self.mailbox.deliveries:
            timeout = SILENT_WAIT  # nothing has ever arrived: a target that does not deliver costs seconds
        else:
            timeout = DELIVERY_WAIT
        if not self.mailbox.wait_for(arrived, timeout, since) and not self.mailbox.deliveries:
            self._silent = True

    def deliveries(self, token: str, since: int = 0) -> list[Delivery]:
        return self.mailbox.matching(token, since)

    def shown(self, label: str, deliveries: list[Delivery]) -> list[tuple[str, str]]:
        """The deliveries a judgement rests on, as the reports attach them: (name, redacted text)."""
        scrub = Scrubber(v for user in self.harness.target.users.values() for v in user.headers.values())
        return [
            (f"delivered {label} #{index + 1} of {len(deliveries)}", mail_text(delivery, scrub))
            for index, delivery in enumerate(deliveries[:SHOWN])
        ]


def _address(address: str, name: str) -> dict[str, Any]:
    return {
        "ContactId": 0,
        "ContactName": None,
        "PersonId": 0,
        "PersonName": None,
        "AssociateId": 0,
        "Address": address,
        "EmailId": 0,
        "DuplicatePersonIds": None,
        "Name": name or None,
    }


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def is_new(email: Any) -> bool:
    """Plainly new: IsSent false and no Draft flag (only those are judged by delivery)."""
    if not isinstance(email, dict) or email.get("IsSent", False) is not False:
        return False
    flags = email.get("Flags", "None")
    return isinstance(flags, str) and "draft" not in flags.lower()


def recipients(email: dict[str, Any]) -> list[str]:
    out = []
    for key in ("To", "Cc", "Bcc"):
        for item in email.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("Address"), str):
                out.append(item["Address"].lower())
    return out


# --- making generated bodies safe ----------------------------------------------------------------


class Safe:
    """Rewrites a generated SendEMails body so that it cannot reach anyone or anything the
    run does not own (see the module docstring); returns the new value."""

    def __init__(self, session: SuperOffice) -> None:
        self.session = session
        self.count = 0

    def address(self) -> str:
        self.count += 1
        return f"msgconform+F{self.count}@{DOMAIN}"

    def body(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self.member(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.body(item, key) for item in value[:3]]
        if isinstance(value, str) and key not in BODY_KEYS:
            return value.replace("\r", " ").replace("\n", " ")
        return value

    def request(self, value: Any) -> Any:
        """A whole generated body: as `body`, and an object always names the sink as its
        OutgoingConnectionInfo (a null or absent one would leave the choice of a mail
        server to the target)."""
        value = self.body(value)
        if isinstance(value, dict):
            value["OutgoingConnectionInfo"] = self.session.outgoing(use_ssl=False)
        return value

    def member(self, key: str, value: Any) -> Any:
        if key == "OutgoingConnectionInfo":
            return self.session.outgoing(use_ssl=False)
        if key in ("SentItemsConnectionInfo", "EMailSOInfo", "InReplyTo", "DuplicatePersonIds"):
            return None
        if key in ID_KEYS:
            return 0 if _as_id(value) is not None else value
        if key == "Address":
            return None if value is None else self.address()
        if key in ("ServerName", "UserName", "Password", "Folder"):
            return None  # only inside a connection info, which is replaced whole above
        if key == "CustomHeaderList" and isinstance(value, list):
            return [self.header(item) for item in value[:3]]
        return self.body(value, key)

    def header(self, item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        out = self.body(item)
        name = item.get("Name")
        if isinstance(name, str):
            out["Name"] = "X-Msgconform-" + (_HEADER_NAME.sub("", name)[:40] or "Fuzz")
        return out


@pytest.fixture(scope="session")
def superoffice(msgconform_run, pytestconfig: pytest.Config) -> Iterator[SuperOffice]:
    harness = msgconform_run.harness(API, id_fields={})
    target = harness.target
    smtp = target.smtp
    mode = harness.settings.mode
    imap: Any = None
    if mode == "replay":
        folder = Path(pytestconfig.getoption("msgconform_cassette_dir"))
        smtp_address, imap_address = cassettes.recorded_sink_addresses(cassettes.read_manifest(folder), API)
        sink: Any = _ReplaySink(smtp_address)
        if smtp.imap_port is not None:
            imap = _ReplaySink(imap_address or cassettes.IMAP_SINK_ADDRESS)
    else:
        sink = SmtpSink(smtp.listen, smtp.port, smtp.advertise).start()
        if smtp.imap_port is not None:
            try:
                imap = ImapSink(smtp.listen, smtp.imap_port, smtp.advertise).start()
            except BaseException:
                sink.stop()
                raise
    for each, placeholder in ((sink, cassettes.SMTP_SINK_ADDRESS), (imap, cassettes.IMAP_SINK_ADDRESS)):
        if each is not None:
            cassettes.register_run_value(each.username)
            cassettes.register_run_value(each.password)
            if each.server_name != placeholder:  # (in replay, the address is the placeholder already)
                cassettes.register_run_value(each.server_name, placeholder)
    _redact_exchange_log(harness, sink, imap)
    session = SuperOffice(harness, sink, mode, Budget(target.max_emails), imap)
    harness.followups.append(_within_budget(session, generic.credentials_enforced("SO-AUTH-001")))
    yield session
    sink.stop()
    if imap is not None:
        imap.stop()


def _within_budget(session: SuperOffice, followup):
    """The credentials follow-up re-sends an accepted request twice (no credentials, an
    invalid token): a target that ignores credentials would send its e-mails twice more, so
    those count against max_emails, and the follow-up is not made when they do not fit."""

    def guarded(harness: ApiHarness, exchange: Exchange) -> None:
        if not 200 <= exchange.status < 300 or exchange.operation_id in harness._auth_probed:
            return
        raw = getattr(getattr(exchange.response, "request", None), "body", None) or b""
        body = _decoded(raw.encode() if isinstance(raw, str) else raw)
        emails = body.get("Emails") if isinstance(body, dict) else None
        if not session.budget.take(2 * (len(emails) if isinstance(emails, list) else 0)):
            return
        followup(harness, exchange)

    return guarded


def _redact_exchange_log(harness: ApiHarness, sink: Any, imap: Any) -> None:
    """The exchange log (tests' live-safety proof) gets the sinks' credentials as markers."""
    log = harness.guard.on_exchange
    if log is None:
        return
    swaps = [
        (sink.username.encode(), b"[sink-username]"),
        (sink.password.encode(), b"[sink-password]"),
        (sink.server_name.encode(), b"[sink-server]"),
    ]
    if imap is not None:
        swaps += [
            (imap.username.encode(), b"[imap-username]"),
            (imap.password.encode(), b"[imap-password]"),
            (imap.server_name.encode(), b"[imap-server]"),
        ]

    def redacted(record: dict) -> None:
        for key in ("body", "response_body"):
            if record.get(key):
                for value, marker in swaps:
                    record[key] = record[key].replace(value, marker)
        log(record)

    harness.guard.on_exchange = redacted


@pytest.fixture(scope="session")
def superoffice_schema(superoffice: SuperOffice):
    """The schema the fuzzer generates from: the spec with only its JSON request media types
    (the others are never required of a target, see specs/superoffice.yaml), configured as
    the harness configures its own (seed, no example database, no mined constants), and
    without Schemathesis' coverage phase: over EMailEntity's 28 members and their 11-member
    addresses it sends thousands of one-member variations, each a real e-mail when accepted."""
    harness = superoffice.harness
    spec = copy.deepcopy(specs.load(API))
    content = spec["paths"][SEND]["post"]["requestBody"]["content"]
    for media in [m for m in content if m not in generic.JSON_TYPES]:
        del content[media]
    config = SchemathesisConfig.from_dict(
        {
            "seed": harness.settings.seed,
            "generation": {
                "mode": "all",
                "max-examples": harness.settings.max_examples,
                "database": "none",
                "no-shrink": not harness.settings.shrink,
            },
            "phases": {"coverage": {"enabled": False, "unexpected-methods": []}},
            "analysis": {"constants": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_dict(spec, config=config)
    schema.config.update(base_url=harness.target.base_url, request_timeout=harness.target.timeout)
    return schema


@pytest.fixture(autouse=True)
def _mail_cassette(request: pytest.FixtureRequest, superoffice: SuperOffice):
    """Record: the deliveries of this test go into `<test>.mail.json` beside its cassette.
    Replay: they are read from there into the mailbox before the test runs."""
    folder = request.config.getoption("msgconform_cassette_dir")
    mode = superoffice.mode
    superoffice.test_mark = superoffice.mailbox.mark()
    if not folder or mode == "live":
        yield
        return
    from msgconform.plugin.recording import cassette_names  # loaded in record and replay only

    path = Path(folder) / API / f"{cassette_names(request.node)[1]}.mail.json"
    mark = superoffice.mailbox.mark()
    superoffice.facts.clear()
    if mode == "replay":
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
            superoffice.mailbox.extend(Delivery.from_record(r) for r in recorded["deliveries"])
            superoffice.facts.update(recorded.get("facts") or {})
        except (OSError, ValueError, KeyError, TypeError):
            superoffice.recorder.harness(API, f"cassette miss: no readable deliveries in {path}")
        yield
        return
    yield
    superoffice.mailbox.settle(quiet=0.3, timeout=2.0, since=mark)
    values = [v for user in superoffice.harness.target.users.values() for v in user.headers.values()]
    secrets = [s.encode() for v in values for s in (v, v.partition(" ")[2]) if s]  # also X of "Basic X"
    records = [_redacted(d, secrets).to_record() for d in superoffice.mailbox.since(mark)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"format": 1, "deliveries": records, "facts": superoffice.facts}, indent=1) + "\n", encoding="utf-8"
    )


def _redacted(delivery: Delivery, secrets: list[bytes]) -> Delivery:
    """A delivery as a cassette keeps it: the run's values (the sinks' credentials and
    addresses) and the targets' credentials replaced in the message, should a target have
    written them there."""
    raw = cassettes.redact_run_values(delivery.raw)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 8:
            raw = raw.replace(secret, cassettes.PLACEHOLDER.encode())
    return delivery if raw == delivery.raw else dataclasses.replace(delivery, raw=raw)
