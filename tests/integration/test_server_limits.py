"""The reference servers hold up against broken or hostile clients (servers/_limits.py).

Request bodies over 8 MiB get 413 before they are read, slow bodies 408, stored messages
are bounded, and 8 concurrent senders x 250 sends lose nothing. Every test here is
bounded: sockets and clients have time-outs, and the concurrent senders are joined with one.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from msgconform.servers import _limits, itslearning
from msgconform.servers.embedded import running_servers
from msgconform.servers.itslearning import create_app

SEND = "/restapi/personal/messages/send/v1"
SENDER = {"Authorization": "Bearer sender-token"}
SENDERS, SENDS_EACH = 8, 250


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_servers(["itslearning"]) as servers:
        yield servers.base_urls["itslearning"]


def _raw_exchange(base_url: str, head: bytes, body: bytes = b"", timeout: float = 10.0) -> tuple[bytes, float]:
    """Send `head` (and `body`) on a raw socket; the answer's first bytes and how long they took."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(head + body)
        answer = sock.recv(4096)
        return answer, time.monotonic() - started


def test_a_body_announced_over_8_mib_is_refused_with_413_before_it_is_sent(base_url):
    head = (f"POST {SEND} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sender-token\r\n"
            f"Content-Type: application/json\r\nContent-Length: {300 * 2**20}\r\n\r\n").encode()
    answer, _ = _raw_exchange(base_url, head)  # not one byte of the 300 MiB body is sent
    assert answer.startswith(b"HTTP/1.1 413 "), answer


def test_a_chunked_body_growing_past_8_mib_is_refused_with_413(base_url):
    def body() -> Iterator[bytes]:
        block = b"x" * 2**20
        for _ in range(40):  # 40 MiB offered; the server stops reading after 8
            yield block

    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.post(SEND, content=body(), headers=SENDER | {"Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_body_just_under_the_limit_is_read(base_url):
    subject = "[msgconform] " + "x" * (_limits.MAX_BODY_BYTES - 200)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = client.post(SEND, json={"ToPersonIds": [1002], "Subject": subject}, headers=SENDER)
    assert response.status_code == 201


def _answers(base_url: str, data: bytes, count: int, timeout: float = 10.0) -> list[bytes]:
    """Send `data` on one connection; the status lines of the first `count` answers (fewer if
    the server closed the connection first)."""
    parts = urlsplit(base_url)
    received = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(data)
        while received.count(b"HTTP/1.1 ") < count:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return [b"HTTP/1.1 " + part.split(b"\r\n", 1)[0] for part in received.split(b"HTTP/1.1 ")[1:]]


def test_a_head_over_16_kib_is_refused_with_431_and_the_connection_closed(base_url):
    """What h11 bounded before the servers parsed with httptools (servers/_protocol.py)."""
    parts = urlsplit(base_url)
    head = f"GET {SEND} HTTP/1.1\r\nHost: x\r\nX-Long: ".encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head)
        try:
            for _ in range(64):  # 1 MiB of one header line, never ended
                sock.sendall(b"a" * 16384)
                time.sleep(0.001)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed by the server: the answer was written before
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 431 "), answer


def test_a_head_under_16_kib_and_pipelined_requests_with_bodies_are_answered(base_url):
    headers = "".join(f"X-Filler-{n}: {'v' * 100}\r\n" for n in range(120))  # about 14 KiB
    get = f"GET /restapi/personal/messages/1/v1 HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode()
    assert _answers(base_url, get, 1)[0].startswith(b"HTTP/1.1 401"), "not refused for its head"
    body = b'{"ToPersonIds": [1002], "Subject": "[msgconform] ' + b"x" * 200_000 + b'"}'
    post = (f"POST {SEND} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sender-token\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    answers = _answers(base_url, post + post + get, 3)  # one write: bodies and heads share reads
    assert [a[:12] for a in answers] == [b"HTTP/1.1 201", b"HTTP/1.1 201", b"HTTP/1.1 401"], answers


def test_a_client_that_stops_sending_its_body_gets_408(base_url):
    app = _limits.bounded(create_app(), body_seconds=0.3)
    sent: list[dict] = []

    async def scenario() -> None:
        async def receive() -> dict:
            await asyncio.sleep(3600)  # the client never sends its body
            return {"type": "http.request", "body": b""}

        async def send(event: dict) -> None:
            sent.append(event)

        scope = {"type": "http", "method": "POST", "path": SEND, "raw_path": SEND.encode(), "query_string": b"",
                 "headers": [(b"authorization", b"Bearer sender-token"), (b"content-type", b"application/json"),
                             (b"content-length", b"10")],
                 "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
                 "root_path": ""}
        await asyncio.wait_for(app(scope, receive, send), 5)

    asyncio.run(scenario())
    assert sent[0]["status"] == 408


def test_stored_messages_are_bounded_oldest_first(monkeypatch):
    monkeypatch.setattr(itslearning, "MAX_STORED_MESSAGES", 5)
    with running_servers(["itslearning"]) as servers, httpx.Client(base_url=servers.base_urls["itslearning"],
                                                                   timeout=10) as client:
        paths = []
        for number in range(8):
            response = client.post(SEND, json={"ToPersonIds": [1002], "Subject": f"[msgconform] {number}"},
                                   headers=SENDER)
            assert response.status_code == 201
            paths.append(urlsplit(response.headers["location"]).path)
        statuses = [client.get(path, headers=SENDER).status_code for path in paths]
    assert statuses == [404, 404, 404, 200, 200, 200, 200, 200]


def test_stored_text_is_bounded(monkeypatch):
    monkeypatch.setattr(itslearning, "MAX_STORED_TEXT_BYTES", 3000)
    with running_servers(["itslearning"]) as servers, httpx.Client(base_url=servers.base_urls["itslearning"],
                                                                   timeout=10) as client:
        paths = []
        for number in range(4):
            body = {"ToPersonIds": [1002], "Subject": "[msgconform]", "Text": f"{number}" * 1000}
            paths.append(urlsplit(client.post(SEND, json=body, headers=SENDER).headers["location"]).path)
        statuses = [client.get(path, headers=SENDER).status_code for path in paths]
    assert statuses == [404, 404, 200, 200]  # 1000 bytes of text each (and the subject): two fit


def test_8_concurrent_senders_times_250_sends_lose_nothing(base_url):
    locations: list[list[str]] = [[] for _ in range(SENDERS)]
    problems: list[str] = []

    def sender(index: int) -> None:
        with httpx.Client(base_url=base_url, timeout=10) as client:
            for number in range(SENDS_EACH):
                subject = f"[msgconform] load {index}-{number}"
                response = client.post(SEND, json={"ToPersonIds": [1002], "Subject": subject}, headers=SENDER)
                if response.status_code != 201:
                    problems.append(f"{subject}: {response.status_code}")
                    return
                locations[index].append((urlsplit(response.headers["location"]).path, subject))

    threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "the senders did not finish within 120 s"
    assert not problems, problems[:5]
    sent = [item for items in locations for item in items]
    assert len(sent) == SENDERS * SENDS_EACH
    assert len({path for path, _ in sent}) == len(sent)  # every message got its own id
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for path, subject in sent:
            response = client.get(path, headers={"Authorization": "Bearer recipient-token"})
            assert response.status_code == 200 and response.json()["Subject"] == subject, path
