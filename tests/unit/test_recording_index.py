"""The cassette index (plugin.recording) finds exactly what vcrpy's own linear scan finds."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from vcr.cassette import Cassette
from vcr.errors import UnhandledHTTPRequestError
from vcr.record_mode import RecordMode
from vcr.request import Request

from msgconform.plugin import recording

ROOT = Path(__file__).resolve().parents[2]
FUZZ = sorted((ROOT / "cassettes").glob("*/test_fuzz.test_operation.yaml"))


def _cassette(path: Path | None = None, match_on=(recording._matcher,)) -> Cassette:
    cassette = Cassette(str(path) if path else "unused.yaml", match_on=match_on, record_mode=RecordMode.NONE,
                        before_record_request=recording._before_record_request)
    if path is not None:
        cassette._load()
    return cassette


def _scan(cassette: Cassette, request) -> list[int]:
    """vcrpy's own answer, whatever is installed."""
    recording.install_index()
    return [index for index, _ in recording._VCR_RESPONSES(cassette, request)]


def _indexed(cassette: Cassette, request) -> list[int]:
    return [index for index, _ in recording._indexed_responses(cassette, request)]


def _miss(request) -> Request:
    other = copy.deepcopy(request)
    other.uri = other.uri + ("&" if "?" in other.uri else "?") + "msgconform-miss=1"
    return other


def test_the_index_is_installed_once():
    recording.install_index()
    recording.install_index()
    assert Cassette._responses is recording._indexed_responses
    assert recording._VCR_RESPONSES is not recording._indexed_responses


@pytest.mark.parametrize("path", FUZZ, ids=[p.parent.name for p in FUZZ])
def test_every_recorded_request_finds_what_vcrpy_finds(path):
    cassette = _cassette(path)
    assert len(cassette.data) > 10, "the fuzz cassettes are the large ones"
    for position, (request, _) in enumerate(list(cassette.data)):
        found = _indexed(cassette, request)
        assert found and found == _scan(cassette, request)
        if position % 10 == 0:  # a request the cassette lacks (vcrpy's scan is slow: not every one)
            assert _indexed(cassette, _miss(request)) == _scan(cassette, _miss(request)) == []


@pytest.mark.parametrize("path", FUZZ, ids=[p.parent.name for p in FUZZ])
def test_playing_everything_back_gives_the_recorded_responses_in_order(path):
    cassette = _cassette(path)
    recording.install_index()
    for request, response in list(cassette.data):
        assert cassette.can_play_response_for(request)
        # in recorded order, the first unplayed interaction with the request's key is its own
        assert cassette.play_response(request) is response
    assert cassette.all_played
    request = cassette.data[0][0]
    assert not cassette.can_play_response_for(request)  # each interaction plays once
    with pytest.raises(UnhandledHTTPRequestError):
        cassette.play_response(request)


def test_repeated_requests_play_in_recorded_order_and_appends_are_seen():
    recording.install_index()
    cassette = _cassette()
    first = Request("POST", "http://h/a", b'{"b": 1, "a": 2}', {"Content-Type": "application/json"})
    same = Request("POST", "http://h/a", b'{"a": 2, "b": 1}', {"Content-Type": "application/json"})
    other = Request("GET", "http://h/a", None, {})
    cassette.append(first, {"status": {"code": 201}, "n": 1})
    cassette.append(other, {"status": {"code": 200}, "n": 2})
    assert _indexed(cassette, same) == _scan(cassette, same) == [0]
    cassette.append(same, {"status": {"code": 201}, "n": 3})  # appended after the index was built
    assert _indexed(cassette, same) == _scan(cassette, same) == [0, 2]
    cassette.rewound = True
    assert [cassette.play_response(first)["n"], cassette.play_response(same)["n"]] == [1, 3]
    assert cassette.play_response(other)["n"] == 2


def test_interactions_replaced_wholesale_are_indexed_again():
    recording.install_index()
    cassette = _cassette()
    a = Request("GET", "http://h/a", None, {})
    b = Request("GET", "http://h/b", None, {})
    cassette.append(a, {"n": 1})
    assert _indexed(cassette, a) == [0]
    cassette.data = [(cassette.data[0][0].__class__("GET", "http://h/b", None, {}), {"n": 2})]
    assert _indexed(cassette, a) == _scan(cassette, a) == []
    assert _indexed(cassette, b) == _scan(cassette, b) == [0]


def test_other_matchers_keep_vcrpys_scan():
    from vcr.matchers import method, uri

    recording.install_index()
    cassette = _cassette(match_on=(uri, method))
    a = Request("GET", "http://h/a", None, {})
    cassette.append(a, {"n": 1})
    assert _indexed(cassette, a) == [0]
    assert "_msgconform_index" not in cassette.__dict__  # not indexed: vcrpy's matchers decided
