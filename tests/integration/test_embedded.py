"""The embedded launcher: servers start on loopback, are described as a targets file, apply
their faults, and stop cleanly; `serve_forever` prints the targets and blocks until told."""

from __future__ import annotations

import io
import socket
import threading
import time
import tomllib

import httpx
import pytest

from msgconform.servers import AVAILABLE, faults
from msgconform.servers.embedded import PORT_OFFSETS, running_servers, serve_forever
from msgconform.targets import parse_targets

pytestmark = pytest.mark.integration

SEND = "/restapi/personal/messages/send/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def refuses_connections(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.ConnectError:
        return True
    return False


def test_servers_listen_are_described_and_stop_on_exit() -> None:
    with running_servers(["itslearning"]) as servers:
        url = servers.base_urls["itslearning"]
        assert url.startswith("http://127.0.0.1:")
        headers = {"Authorization": "Bearer sender-token"}
        response = httpx.post(url + SEND, json={"ToPersonIds": [1002]}, headers=headers)
        assert response.status_code == 201

        targets = parse_targets(servers.targets_toml(), environ={})
        its = targets["itslearning"]
        assert its.base_url == url
        assert set(its.users) == {"sender", "recipient", "bcc", "outsider"}
        assert its.users["recipient"].headers == {"Authorization": "Bearer recipient-token"}
        raw = tomllib.loads(servers.targets_toml())["itslearning"]["users"]
        assert raw["sender"] == {"id": 1001, "name": "Ada Sender", "token": "sender-token"}
        assert raw["outsider"]["id"] == 1004
    assert refuses_connections(url)


def test_a_fixed_port_puts_itslearning_at_offset_zero() -> None:
    port = free_port()
    assert PORT_OFFSETS["itslearning"] == 0
    with running_servers(["itslearning"], port=port) as servers:
        assert servers.base_urls["itslearning"] == f"http://127.0.0.1:{port}"


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1 port {port}"):
            with running_servers(["itslearning"], port=port):
                pass


def test_faults_reach_their_server() -> None:
    with running_servers(["itslearning"], faults=["send-200", "relative-location"]) as servers:
        assert servers.faults["itslearning"] == faults.FaultSet(["send-200", "relative-location"], api="itslearning")
        response = httpx.post(
            servers.base_urls["itslearning"] + SEND,
            json={"ToPersonIds": [1002]},
            headers={"Authorization": "Bearer sender-token"},
        )
        assert response.status_code == 200
        assert response.headers["location"].startswith("/restapi/")


@pytest.mark.parametrize(
    ("apis", "names", "error", "message"),
    [
        (["itslearning"], ["no-such-fault"], faults.UnknownFault, "unknown fault 'no-such-fault'"),
        (["nonsense"], [], ValueError, "no reference server for nonsense"),
        ([], [], ValueError, "no API to start"),
    ],
)
def test_bad_requests_fail_before_anything_starts(apis, names, error, message) -> None:
    with pytest.raises(error, match=message):
        with running_servers(apis, faults=names):
            pass


def test_serve_forever_prints_the_targets_and_stops_when_told() -> None:
    out, stop = io.StringIO(), threading.Event()
    thread = threading.Thread(target=serve_forever, kwargs={"out": out, "stop": stop}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    targets = tomllib.loads(out.getvalue())
    assert set(targets) == set(AVAILABLE)
    url = targets["itslearning"]["base_url"]
    assert httpx.get(url + "/restapi/personal/messages/1/v1").status_code == 401
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert refuses_connections(url)
