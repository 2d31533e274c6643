"""Record and replay inside the suite: pytest-recording (vcrpy) configured for msgconform.

With `--msgconform-mode record` or `replay`, every suite test gets a `vcr` mark, so that
each test has one small cassette in `<cassette-dir>/<api>/<module>.<test>.yaml`. Requests
match on method, path, query, the media types asked for and sent (Accept, Content-Type)
and the normalized body (never on volatile headers such as Schemathesis' random test-case
id); secrets are redacted before anything is written, and the same redaction runs on live
requests before matching, so replay still matches.

Requests must happen while a test's cassette is open: fixtures that talk to the target do
it inside function-scoped fixtures or tests, never while a session fixture is set up.

Finding a request in a cassette: vcrpy compares it with every recorded interaction, several
times per request (`can_play_response_for`, `__contains__`, `play_response`), which made
replay quadratic in a cassette's size: a quarter of the itslearning replay went there (the
fuzz cassette holds about 450 interactions). Because our one matcher is equality of a key
(`_key`), the cassette's interactions are indexed by that key instead (`_indexed_responses`,
installed over `Cassette._responses` for cassettes that match on it alone): the same
interactions, in the same order, found by one dictionary look-up.
tests/unit/test_recording_index.py proves the answers are vcrpy's own.

The same three calls each filter the request again (vcrpy's `before_record_request`: a deep
copy, then our redaction), once of them on the copy the first call made; that was a tenth
of CompleteEmpire's replay. `_filtered_once` runs the filter once per request object and
hands back the copy it made, unless the request changed since (the filter is idempotent).

Beside a Schemathesis test's cassette, a recording also keeps the cases the test generated,
and its replay sends those instead of generating them again (`msgconform.plugin.stored_cases`).
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from msgconform import cassettes
from msgconform.plugin import stored_cases


def _before_record_request(request):
    request.body = cassettes.redact_body(request.body)
    for name in list(request.headers):
        if cassettes.is_secret_header(name, request.headers[name]):
            request.headers[name] = cassettes.PLACEHOLDER
        elif name.lower() in cassettes.VOLATILE_HEADERS:
            del request.headers[name]
    parts = urlsplit(request.uri)
    if parts.query:
        query = [
            (k, cassettes.PLACEHOLDER if k.lower() in cassettes.SECRET_QUERY else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        request.uri = urlunsplit(parts._replace(query=urlencode(query)))
    return request


def _before_record_response(response):
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in ("set-cookie",) or name.lower() in cassettes.SECRET_HEADERS:
            headers[name] = [cassettes.PLACEHOLDER]
    body = response.get("body", {})
    if isinstance(body, dict) and body.get("string"):
        body["string"] = cassettes.redact_body(body["string"])
    return response


def _matcher(r1, r2) -> None:
    """One matcher for everything a request means: method, path, query, the media types
    asked for and sent (Accept, Content-Type), whether and which credentials it carried
    (redacted, or the suite's deliberately invalid ones), and the normalized body.
    Never volatile headers. vcrpy compares each request with every recorded one, so the
    comparison key is computed once per request object."""
    if _key(r1) != _key(r2):
        raise AssertionError("the requests differ in method, path, query, media types, credentials or body")


_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _key(request) -> tuple:
    key = _KEYS.get(request)
    if key is None:
        parts = urlsplit(request.uri)
        key = (
            request.method.upper(),
            parts.path,
            tuple(sorted(parse_qsl(parts.query, keep_blank_values=True))),
            _media(request, "accept"),
            _media(request, "content-type"),
            tuple(_header(request, name) for name in cassettes.SECRET_HEADERS),
            cassettes.normalized_body(request.body),
        )
        _KEYS[request] = key
    return key


def _media(request, name: str) -> str:
    value = _header(request, name) or ""
    return value.split(";")[0].strip().lower()


def _header(request, name: str) -> str | None:
    for key, value in request.headers.items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else value
    return None


def _indexed_responses(cassette, request):
    """`Cassette._responses` for a cassette matching on `_matcher` alone: (index, response)
    of every recorded interaction the request matches, in recorded order."""
    if tuple(cassette._match_on) != (_matcher,):
        yield from _VCR_RESPONSES(cassette, request)
        return
    request = cassette._before_record_request(request)
    if not request:  # a request the configuration ignores matches nothing
        return
    data = cassette.data
    for index in _index(cassette).get(_key(request), ()):
        yield index, data[index][1]


def _index(cassette) -> dict[tuple, list[int]]:
    """Key -> positions in `cassette.data`, kept up to date as interactions are appended."""
    data = cassette.data
    state = cassette.__dict__.get("_msgconform_index")
    if state is None or state[0] > len(data) or (state[0] and data[state[0] - 1][0] is not state[2]):
        state = [0, {}, None]  # first use, or the interactions were replaced: start again
        cassette.__dict__["_msgconform_index"] = state
    for position in range(state[0], len(data)):
        state[1].setdefault(_key(data[position][0]), []).append(position)
    if data:
        state[0], state[2] = len(data), data[-1][0]
    return state[1]


_VCR_RESPONSES: Any = None  # vcrpy's own Cassette._responses, once install_index ran


def install_index() -> None:
    """Put `_indexed_responses` in place of vcrpy's linear scan (once per process)."""
    global _VCR_RESPONSES
    from vcr.cassette import Cassette

    if _VCR_RESPONSES is None:
        _VCR_RESPONSES = Cassette._responses
        Cassette._responses = _indexed_responses


def _filtered_once(before):
    """`before` (vcrpy's built before_record_request) run once per request object: the copy
    it made is given again while the request is unchanged, and a copy it made is its own
    filtered form."""
    done: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # request -> (its state, copy)
    made: weakref.WeakSet = weakref.WeakSet()

    def filtered(request):
        if request in made:
            return request
        state = (request.method, request.uri, request.body, list(request.headers.items()))
        seen = done.get(request)
        if seen is not None and seen[0] == state:
            return seen[1]
        result = before(request)
        if result is not None:
            made.add(result)
            done[request] = (state, result)
        return result

    return filtered


def pytest_recording_configure(config: pytest.Config, vcr) -> None:
    vcr.register_matcher("msgconform", _matcher)
    build = vcr._build_before_record_request
    vcr._build_before_record_request = lambda options: _filtered_once(build(options))
    install_index()
    stored_cases.STORE.mode = config.getoption("msgconform_mode")
    stored_cases.install(stored_cases.STORE)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    """The test's case file: filled while it records, read when it replays."""
    api, stem = cassette_names(item)
    stored_cases.STORE.current = stored_cases.CaseFile(
        Path(item.config.getoption("msgconform_cassette_dir")) / api / f"{stem}{cassettes.CASES_SUFFIX}"
    )
    try:
        yield
    finally:
        if stored_cases.STORE.mode == "record":
            stored_cases.STORE.current.write()
        stored_cases.STORE.current = None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.vcr)


@pytest.fixture(scope="session")
def vcr_config() -> dict:
    return {
        "match_on": ["msgconform"],
        "before_record_request": _before_record_request,
        "before_record_response": _before_record_response,
        "decode_compressed_response": True,
        "record_on_exception": True,
    }


def cassette_names(node: pytest.Item) -> tuple[str, str]:
    """The API folder of a test's cassette and the cassette's name without its suffix:
    `<api>/<module>.<test>` (`.yaml`, and beside it `.cases.jsonl` or `.mail.json`)."""
    path = Path(str(node.path))
    return path.parent.name, f"{path.stem}.{node.name}".replace("/", "_")


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    folder = Path(request.config.getoption("msgconform_cassette_dir"))
    api = Path(str(request.node.path)).parent.name
    return str(folder / api)


@pytest.fixture
def default_cassette_name(request: pytest.FixtureRequest) -> str:
    return cassette_names(request.node)[1]


def describe_miss(error: CannotOverwriteExistingCassetteException) -> str:
    request = error.failed_request
    path = urlsplit(request.uri).path
    cassette = getattr(error.cassette, "_path", "?")
    return f"cassette miss: {request.method} {path} is not in {cassette} ({error.reason})"
