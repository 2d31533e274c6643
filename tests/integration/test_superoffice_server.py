"""The SuperOffice reference server and the mail sinks, over real HTTP, SMTP and IMAP on
loopback: the faithful server really delivers, refuses to send anywhere but loopback, and a
few faults and variants do what their entries say (the quality group proves every one
against the suite)."""

from __future__ import annotations

import base64
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from msgconform.servers import TARGET_USERS
from msgconform.servers.embedded import running_servers
from msgconform.sink import ImapSink, SmtpSink

pytestmark = pytest.mark.integration
PATH = "/api/v1/Agents/EMail/SendEMails"
USER = TARGET_USERS["superoffice"]()["sender"]
AUTH = USER["headers"]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


def _server(*faults: str):
    return running_servers(["superoffice"], list(faults))


def _email(token: str, **extra) -> dict:
    email = {"To": [{"Address": f"msgconform+{token}-to@example.test"}],
             "Bcc": [{"Address": f"msgconform+{token}-bcc@example.test"}],
             "Subject": f"[msgconform] {token}", "PlainBody": "plain", "HTMLBody": "<p>html</p>",
             "From": {"Address": USER["email"]}, "IsSent": False, "Flags": "None"}
    return {**email, **extra}


def _send(base: str, sink: SmtpSink, *emails: dict, headers: dict | None = None, **query) -> httpx.Response:
    body = {"OutgoingConnectionInfo": {"ServerName": sink.server_name, "UserName": sink.username,
                                       "Password": sink.password, "UseSSL": False},
            "Emails": list(emails), "SentItemsConnectionInfo": None}
    return httpx.post(base + PATH, json=body, headers={**AUTH, **(headers or {})}, params=query or None, timeout=20)


def test_the_sink_captures_with_auth_and_starttls_and_refuses_wrong_credentials(sink):
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = "hello Tsink", "a@example.test", "b@example.test"
    message.set_content("x")
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp:
        smtp.starttls(context=sink.client_context())
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login(sink.username, "wrong")
        smtp.login(sink.username, sink.password)
        smtp.send_message(message, to_addrs=["b@example.test", "c@example.test"])
    assert sink.mailbox.wait_for(lambda d: len(d) == 1, 5)
    delivery = sink.mailbox.deliveries[0]
    assert delivery.rcpt_tos == ("b@example.test", "c@example.test")
    assert delivery.tls and delivery.authenticated and delivery.mentions("Tsink")
    assert delivery.from_record(delivery.to_record()) == delivery


def test_the_sinks_connections_send_without_delay(sink):
    """asyncio sets TCP_NODELAY on an accepted connection only when its listening socket says
    it is TCP (proto IPPROTO_TCP, which accepted sockets inherit). Without it, each multi-line
    reply (EHLO) waited for the client's delayed ACK: 40 ms, twice per e-mail with STARTTLS."""
    import socket

    import smtplib

    (listening,) = sink._server.sockets
    assert listening.proto == socket.IPPROTO_TCP
    host, port = sink.server_name.rsplit(":", 1)
    with smtplib.SMTP(host, int(port), timeout=5) as client:
        assert client.ehlo()[0] == 250 and client.has_extn("starttls")


def test_one_bounded_wait_when_nothing_arrives(sink):
    import time

    started = time.monotonic()
    assert not sink.mailbox.wait_for(lambda d: bool(d), 0.5)
    assert time.monotonic() - started < 2


def test_faithful_server_delivers_to_exactly_to_cc_and_bcc(sink):
    with _server() as servers:
        response = _send(servers.base_urls["superoffice"], sink, _email("T1"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    [entity] = response.json()
    assert entity["IsSent"] is True and entity["Size"] > 0 and entity["Priority"] == "NoPriority"
    assert sink.mailbox.wait_for(lambda d: len(d) == 1, 5)
    delivery = sink.mailbox.deliveries[0]
    assert sorted(delivery.rcpt_tos) == ["msgconform+T1-bcc@example.test", "msgconform+T1-to@example.test"]
    assert "bcc" not in delivery.raw.decode().lower().split("\r\n\r\n")[0]
    assert delivery.message.get_content_type() == "multipart/alternative"


def test_credentials_basic_soticket_and_bearer_each_work_alone(sink):
    with _server() as servers:
        base = servers.base_urls["superoffice"]
        for header in ({"Authorization": "soticket 7T:msgconform-agent-ticket"},
                       {"Authorization": "Bearer 8A:msgconform-agent-token"}):
            body = {"OutgoingConnectionInfo": None, "Emails": []}
            assert httpx.post(base + PATH, json=body, headers=header).status_code == 200
        refused = httpx.post(base + PATH, json={"Emails": []}, headers={"Authorization": "Basic eDp5"})
    assert refused.status_code == 401 and refused.json()["Error"] is True


def test_the_server_sends_only_to_loopback(sink):
    with _server() as servers:
        body = {"OutgoingConnectionInfo": {"ServerName": "smtp.example.com:25"}, "Emails": [_email("T2")]}
        response = httpx.post(servers.base_urls["superoffice"] + PATH, json=body, headers=AUTH)
    assert response.status_code == 400 and "loopback" in response.json()["ErrorMessage"]
    assert not sink.mailbox.deliveries


def test_select_xml_and_errors(sink):
    with _server() as servers:
        base = servers.base_urls["superoffice"]
        selected = _send(base, sink, _email("T3"), **{"$select": "subject"}).json()[0]
        xml = _send(base, sink, _email("T4"), headers={"Accept": "application/xml"})
        malformed = httpx.post(base + PATH, content=b"{", headers={**AUTH, "Content-Type": "application/json"})
        nobody = _send(base, sink, _email("T5", To=[], Bcc=[]))
    assert selected["Subject"] and selected["To"] is None and selected["HTMLBody"] is None and selected["IsSent"] is True
    assert xml.headers["content-type"] == "application/xml" and xml.content.startswith(b"<ArrayOfEMailEntity")
    assert malformed.status_code == 400 and malformed.json()["ErrorType"] == "BadRequest"
    assert nobody.status_code == 400


def test_attachment_bytes_and_custom_headers_arrive(sink):
    data = bytes(range(256))
    email = _email("T6", Attachments=[{"Filename": "all.bin", "Type": "application/octet-stream",
                                       "Stream": base64.b64encode(data).decode()}],
                   CustomHeaderList=[{"Name": "X-Msgconform-A", "Values": ["1", "2"]}])
    with _server() as servers:
        assert _send(servers.base_urls["superoffice"], sink, email).status_code == 200
    assert sink.mailbox.wait_for(lambda d: len(d) == 1, 5)
    message = sink.mailbox.deliveries[0].message
    [part] = [p for p in message.walk() if p.get_filename() == "all.bin"]
    assert part.get_payload(decode=True) == data
    assert message.get_all("X-Msgconform-A") == ["1", "2"]


@pytest.mark.parametrize(("fault", "delivered", "bcc_in_envelope", "bcc_header"), [
    ("no-delivery", 0, None, None),
    ("bcc-not-delivered", 1, False, False),
    ("bcc-header-leaked", 1, True, True),
    ("per-recipient-copies", 2, True, False),
])
def test_delivery_faults_and_variants(sink, fault, delivered, bcc_in_envelope, bcc_header):
    with _server(fault) as servers:
        assert _send(servers.base_urls["superoffice"], sink, _email("T7")).status_code == 200
    sink.mailbox.wait_for(lambda d: len(d) >= max(delivered, 1), 2 if delivered else 0.5)
    deliveries = sink.mailbox.deliveries
    assert len(deliveries) == delivered
    if delivered:
        envelope = {r for d in deliveries for r in d.rcpt_tos}
        assert ("msgconform+T7-bcc@example.test" in envelope) is bcc_in_envelope
        assert any("Bcc" in d.message for d in deliveries) is bcc_header


@pytest.mark.parametrize(("faults", "delivered"), [((), 0), (("sends-unauthorized",), 1)])
def test_without_valid_credentials_nothing_is_sent_but_by_the_fault(sink, faults, delivered):
    with _server(*faults) as servers:
        response = _send(servers.base_urls["superoffice"], sink, _email("T11"), headers={"Authorization": "Basic eDp5"})
    assert response.status_code == 401 and response.json()["Error"] is True  # the fault answers as usual
    sink.mailbox.wait_for(lambda d: len(d) >= 1, 2 if delivered else 0.5)
    assert len(sink.mailbox.deliveries) == delivered


@pytest.mark.parametrize(("faults", "status"), [((), 500), (("smtp-failure-200",), 200)])
def test_a_refused_recipient(sink, faults, status):
    sink.refuse("msgconform+T8-to@example.test")
    with _server(*faults) as servers:
        response = _send(servers.base_urls["superoffice"], sink, _email("T8"))
    assert response.status_code == status
    if status == 200:
        assert response.json()[0]["IsSent"] is False


def test_sent_items_copy_goes_into_the_imap_sink(sink):
    with ImapSink() as imap, _server() as servers:
        body = {"OutgoingConnectionInfo": {"ServerName": sink.server_name, "UserName": sink.username,
                                           "Password": sink.password},
                "Emails": [_email("T9")],
                "SentItemsConnectionInfo": {"ServerName": imap.server_name, "UserName": imap.username,
                                            "Password": imap.password, "Folder": "Sent"}}
        assert httpx.post(servers.base_urls["superoffice"] + PATH, json=body, headers=AUTH, timeout=20).status_code == 200
        assert imap.copies("T9") == 1 and imap.copies("T10") == 0


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_the_imap_sink_password_is_not_on_its_command_line():
    """Any local user can read a command line (`ps`): the password reaches pymap otherwise.
    A password beginning with `-` (token_urlsafe makes one in 64) is still read as a value."""
    imap = ImapSink()
    imap.password = "-" + imap.password
    with imap:
        command = Path(f"/proc/{imap._process.pid}/cmdline").read_bytes()
        assert imap.username.encode() in command  # the right process
        assert imap.password.encode() not in command
        assert imap.copies("nothing-sent") == 0  # and it still logs in with it


def test_run_against_serve_with_a_targets_file(tmp_path):
    """`serve` puts SuperOffice at N+3; `run --targets ... --api superoffice` judges it,
    delivering into the run's own sinks."""
    from tests.helpers import free_port_block, run_msgconform, serving

    port = free_port_block(4)
    with serving(port=port, cwd=tmp_path) as server:
        target = server.targets["superoffice"]
        assert target.base_url == f"http://127.0.0.1:{port + 3}"
        assert target.smtp.imap_port == 0 and target.users["sender"].email == USER["email"]
        done = run_msgconform("run", "--targets", server.write_targets(tmp_path / "targets.toml"),
                              "--api", "superoffice", "--max-examples", "3", "--report-dir", tmp_path / "r",
                              cwd=tmp_path, timeout=300)
    assert done.status == 0, done
    assert done.stdout.startswith("superoffice: conformant (")
