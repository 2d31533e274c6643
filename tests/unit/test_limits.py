"""Bounds on every exchange (msgconform.limits) and on every run (the guard's breaker and clock)."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib

import pytest

from msgconform import limits
from msgconform.guard import BREAKER_THRESHOLD, Guard, RunStopped
from msgconform.limits import AnswerTooLarge, ExchangeTimeout, TransportFailure, deadline, read_capped


def chunks(data: bytes, size: int = 1000) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        (None, lambda b: b),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 says
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send
        ("GZIP, identity", gzip.compress),
    ],
)
def test_answers_are_decoded_as_a_client_would(encoding, encode):
    body = b'{"Message": "The request is invalid."}' * 50
    assert read_capped(chunks(encode(body)), encoding, 10_000, "GET /x") == (body, encoding is not None)


def test_concatenated_gzip_members_are_decoded_whole():
    assert read_capped([gzip.compress(b"ab") + gzip.compress(b"cd")], "gzip", 100, "GET /x")[0] == b"abcd"


def test_an_encoding_it_cannot_decode_is_kept_raw_and_capped():
    assert read_capped([b"raw"], "br", 100, "GET /x") == (b"raw", False)
    with pytest.raises(AnswerTooLarge):
        read_capped([b"x" * 101], "br", 100, "GET /x")


def test_an_answer_over_the_cap_is_cut_off_in_one_sentence_naming_the_request():
    with pytest.raises(AnswerTooLarge) as caught:
        read_capped(chunks(b"x" * 2049), None, 2048, "GET /restapi/personal/messages/7/v1")
    assert str(caught.value) == ("GET /restapi/personal/messages/7/v1: the answer was larger than "
                                 "max_response_bytes (2 KiB) and was cut off")
    assert read_capped([b"x" * 2048], None, 2048, "GET /")[0] == b"x" * 2048  # the cap itself is fine


def test_a_decompression_bomb_never_decodes_past_the_cap():
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    wire = b"".join(bomb.compress(bytes(2**20)) for _ in range(64)) + bomb.flush()  # 64 MiB decoded
    produced = []
    real = limits._Decoder.feed

    def counting(self, data, room):
        for piece in real(self, data, room):
            produced.append(len(piece))
            yield piece

    limits._Decoder.feed = counting
    try:
        with pytest.raises(AnswerTooLarge):
            read_capped(chunks(wire, 65536), "gzip", 2**20, "GET /bomb")
    finally:
        limits._Decoder.feed = real
    assert sum(produced) <= 2**20 + 1  # never more than the cap and one byte was decoded
    assert len(wire) < 2**20 // 4


def test_a_corrupt_encoding_is_a_transport_failure():
    with pytest.raises(TransportFailure, match="gzip encoding is corrupt"):
        read_capped([b"\x1f\x8b\x08\x00garbage-garbage"], "gzip", 100, "GET /x")


def test_the_deadline_ends_a_trickle_inside_a_blocking_read():
    left, right = socket.socketpair()
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            right.send(b"x")
            time.sleep(0.05)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    received = 0
    try:
        with pytest.raises(ExchangeTimeout, match="no complete answer within 0.3 s"):
            with deadline(0.3, "GET /slow"):
                left.settimeout(5)  # each read is well inside its own time-out
                give_up = time.monotonic() + 10  # a bound for this test, should the deadline not fire
                while time.monotonic() < give_up:
                    received += len(left.recv(1))
    finally:
        stop.set()
        thread.join(2)
        left.close()
        right.close()
    assert 0 < received
    time.sleep(0.4)  # the timer is disarmed: nothing fires after the block


def test_outside_the_main_thread_the_deadline_is_checked_between_reads():
    outcome = []

    def worker():
        with deadline(0.01, "GET /x") as bound:
            time.sleep(0.05)
            try:
                bound.check()
            except ExchangeTimeout as exc:
                outcome.append(str(exc))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert outcome == ["GET /x: no complete answer within 0.01 s (the target's timeout)"]


def _guard(**kwargs) -> Guard:
    return Guard(api="itslearning", loopback=True, declared_methods=["GET"], **kwargs)


def test_the_circuit_breaker_stops_the_run_after_five_failures_in_a_row():
    guard = _guard()
    assert BREAKER_THRESHOLD == 5
    for _ in range(4):
        guard.transport_failed("GET /x: no answer")
        guard.admit("GET", "http://127.0.0.1/x")
    guard.transport_ok()  # a complete answer in between: the count starts again
    for _ in range(4):
        guard.transport_failed("GET /x: no answer")
    guard.admit("GET", "http://127.0.0.1/x")
    guard.transport_failed("GET /y: no complete answer within 10 s (the target's timeout)")
    with pytest.raises(RunStopped) as caught:
        guard.admit("GET", "http://127.0.0.1/x")
    assert str(caught.value) == (
        "stopped after 5 transport failures in a row (time-outs, resets or over-size answers); "
        "the last: GET /y: no complete answer within 10 s (the target's timeout)"
    )
    guard.transport_ok()
    with pytest.raises(RunStopped):  # once stopped, the run stays stopped
        guard.admit("GET", "http://127.0.0.1/x")


def test_max_duration_stops_the_run():
    guard = _guard(max_duration=60)
    guard.admit("GET", "http://127.0.0.1/x")
    guard.started -= 61
    with pytest.raises(RunStopped, match=r"stopped when max_duration \(60 s\) was reached"):
        guard.admit("GET", "http://127.0.0.1/x")


def test_the_guarded_clients_apply_the_limits(itslearning_server):
    base = itslearning_server.base_urls["itslearning"]
    guard = _guard(max_response_bytes=10)
    session = guard.requests_session()
    url = base + "/restapi/personal/messages/recipients/search/v1?searchText=ada"
    with pytest.raises(AnswerTooLarge, match=r"GET /restapi/personal/messages/recipients/search/v1: .*\(10 bytes\)"):
        session.get(url, headers={"Authorization": "Bearer sender-token"})
    with guard.httpx_client() as client, pytest.raises(AnswerTooLarge):
        client.get(url, headers={"Authorization": "Bearer sender-token"})
    assert guard.failures_in_a_row == 2
    roomy = _guard()
    assert roomy.requests_session().get(url, headers={"Authorization": "Bearer sender-token"}).status_code == 200
    with roomy.httpx_client() as client:
        assert client.get(url, headers={"Authorization": "Bearer sender-token"}).status_code == 200
