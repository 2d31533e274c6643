"""The guard's promises to the owner of a live target: cap, rate, declared methods."""

from __future__ import annotations

import time

import pytest

from msgconform.guard import Guard, GuardRefused


def test_max_requests_is_a_hard_cap():
    guard = Guard(api="x", loopback=True, declared_methods={"GET"}, max_requests=3)
    for _ in range(3):
        guard.admit("GET", "http://127.0.0.1/a")
    with pytest.raises(GuardRefused, match="max_requests"):
        guard.admit("GET", "http://127.0.0.1/a")


def test_rate_limit_spaces_requests():
    guard = Guard(api="x", loopback=False, declared_methods={"GET"}, rate_limit=40)
    start = time.monotonic()
    for _ in range(9):
        guard.admit("GET", "https://vendor.example/a")
    assert time.monotonic() - start >= 8 / 40 * 0.9


def test_undeclared_methods_never_reach_a_live_target():
    guard = Guard(api="x", loopback=False, declared_methods={"GET", "POST"})
    with pytest.raises(GuardRefused, match="declares no DELETE"):
        guard.admit("DELETE", "https://vendor.example/messages/1/v1")
    loopback = Guard(api="x", loopback=True, declared_methods={"GET", "POST"})
    loopback.admit("DELETE", "http://127.0.0.1/messages/1/v1")  # allowed on loopback
    assert loopback.sent == 1


def test_the_http_clients_go_through_the_guard(itslearning_server):
    guard = Guard(api="itslearning", loopback=True, declared_methods={"GET"}, max_requests=1)
    base = itslearning_server.base_urls["itslearning"]
    with guard.httpx_client(base_url=base) as client:
        client.get("/restapi/personal/messages/1/v1")
        with pytest.raises(GuardRefused):
            client.get("/restapi/personal/messages/1/v1")
    session = Guard(api="itslearning", loopback=True, declared_methods={"GET"}, max_requests=1).requests_session()
    session.get(base + "/restapi/personal/messages/1/v1")
    with pytest.raises(GuardRefused):
        session.get(base + "/restapi/personal/messages/1/v1")
