"""Judge the wire: what checks see of a request is what its bytes decode to.

Property-based, over every API, every operation with a request body and every request
media type its spec declares, positive and negative: Schemathesis generates a case, the
harness sends it to the embedded reference server, and the bytes the transport carried
(captured by the guard, below the harness) are decoded independently, by the codec for
their media type. The exchange's request value, and the value left on the Schemathesis
case, must equal that decoding; the generator's own value must be gone; and the exchange
is negative exactly when the API's binder profiles cannot read those bytes.
"""

from __future__ import annotations

import copy
import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from msgconform import binders, catalogue, specs
from msgconform.plugin.harness import ApiHarness, Exchange, RunSettings
from msgconform.plugin.recorder import Recorder
from msgconform.runner import embedded_apis
from msgconform.servers.embedded import running_servers
from msgconform.targets import parse_targets
from msgconform.xmlcodec import XmlCodec, XmlError

pytestmark = pytest.mark.integration


def _operations():
    for api in embedded_apis():
        spec = specs.load(api)
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                body = operation.get("requestBody") if isinstance(operation, dict) else None
                if body and body.get("content"):
                    yield api, method, path, tuple(body["content"])


OPERATIONS = list(_operations())
EXAMPLES = 20  # per operation, media type and generation mode


@pytest.fixture(scope="module")
def servers():
    with running_servers(embedded_apis()) as running:
        yield running


def _decode_independently(spec: dict, operation: dict, media_type: str, content: bytes):
    if not content:
        return None
    if media_type in ("application/json", "text/json"):
        return json.loads(content)
    if media_type in ("application/xml", "text/xml"):
        schema = operation["requestBody"]["content"][media_type]["schema"]
        return XmlCodec(spec).loads(content, schema)
    if media_type == "application/x-www-form-urlencoded":
        return parse_qsl(content.decode(), keep_blank_values=True)
    return content.decode("utf-8-sig")  # another media type (JSON Patch, say): its text, not judged


def test_every_api_and_request_media_type_is_covered():
    assert {api for api, *_ in OPERATIONS} == set(embedded_apis())
    assert {"application/json", "application/xml"} <= {media for *_, types in OPERATIONS for media in types}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize(("api", "method", "path", "media_types"), OPERATIONS,
                         ids=[f"{a}:{m}:{p}" for a, m, p, _ in OPERATIONS])
def test_what_checks_see_is_what_the_wire_decodes_to(servers, api, method, path, media_types, mode):
    sent: list[bytes] = []
    targets = parse_targets(servers.targets_toml())
    harness = ApiHarness(api=api, target=targets[api], recorder=Recorder(None, {api: catalogue.load(api)}),
                         settings=RunSettings(mode="live", seed=1, max_examples=1), id_fields={},
                         on_exchange=lambda record: sent.append(record["body"] or b""))
    operation = harness.schema()[path][method.upper()]
    raw = operation.definition.raw
    spec = harness.raw_spec
    seen = {"exchanges": 0, "negative": 0, "changed": 0}
    media_seen: set[str] = set()

    # Each request media type drawn on its own (Schemathesis draws one media type per case, and
    # XML examples that XML 1.0 cannot carry are not sent), so that every one is exercised:
    # from a copy of the spec whose request body declares that media type alone (filtering
    # the operation's cases by media type drew seven cases for each one kept, for SuperOffice).
    def strategy_for(media):
        document = copy.deepcopy(spec)
        content = document["paths"][path][method]["requestBody"]["content"]
        document["paths"][path][method]["requestBody"]["content"] = {media: content[media]}
        return harness.schema_of(document)[path][method.upper()].as_strategy(generation_mode=mode)

    def check(case):
        media_type = case.media_type
        generated = copy.deepcopy(case.body)
        sent.clear()
        exchange = harness.exercise(case)
        if exchange is None:
            return  # XML 1.0 cannot carry this example: nothing was sent
        assert isinstance(exchange, Exchange)
        content = sent[0]
        assert exchange.request_content == content
        try:
            decoded = _decode_independently(spec, raw, media_type, content)
        except (ValueError, XmlError):
            decoded = None
            assert not isinstance(exchange.request_body, (dict, list))
        else:
            assert exchange.request_body == decoded
            assert exchange.case.body == decoded  # the generator's value was replaced
        seen["changed"] += generated != decoded  # serialization (or the id rewriter) changed it
        url = urlsplit(exchange.path)
        problems = binders.request_problems(spec, raw, {}, parse_qsl(url.query, keep_blank_values=True),
                                            media_type, content)
        assert exchange.negative == (mode is GenerationMode.NEGATIVE and bool(problems))
        seen["exchanges"] += 1
        seen["negative"] += exchange.negative
        media_seen.add(media_type)

    for media in media_types:
        settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                 suppress_health_check=list(HealthCheck))(given(case=strategy_for(media))(check))()
    assert seen["exchanges"] > 0, "no generated request was sent"
    assert media_seen == set(media_types), f"request media types never generated: {set(media_types) - media_seen}"
    if mode is GenerationMode.NEGATIVE:
        assert seen["negative"] > 0, "no negative request was judged negative: the property proves nothing"


def test_no_field_of_an_exchange_can_hold_a_generated_value():
    """The request value is a property decoded from `request_content`, not a field anyone
    can fill with a generator's value."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(Exchange)}
    assert "request_body" not in names and "request_content" in names
    exchange = Exchange(operation_id="x", method="POST", path="/", status=201, headers=None, content=b"",
                        request_headers=None, request_content=b'{"a": 1}', request_media_type="application/json")
    assert exchange.request_body == {"a": 1}
    with pytest.raises((AttributeError, TypeError)):
        Exchange(operation_id="x", method="POST", path="/", status=201, headers=None, content=b"",
                 request_headers=None, request_body={"a": 2})
