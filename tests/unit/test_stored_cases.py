"""Generated cases stored beside a cassette come back exactly (msgconform.plugin.stored_cases).

A replay sends the stored cases instead of generating them, so a stored case must be the
generated one: the same request parts, and the same Schemathesis metadata (generation mode,
phase) that the harness reads. The committed recordings are real data for this: every case
of the four APIs' fuzz tests, positive and negative, from the coverage and fuzzing phases.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET

from msgconform import cassettes, specs
from msgconform.plugin import stored_cases
from msgconform.plugin.stored_cases import Store, StoredCaseError, CaseFile, decode, encode
from tests.helpers import REPO

COMMITTED = REPO / "cassettes"
APIS = ("itslearning", "completeempire", "highq", "superoffice")


def _schema(api: str):
    return schemathesis.openapi.from_dict(specs.load(api))


def _operation(api: str, label: str | None = None):
    operations = [result.ok() for result in _schema(api).get_all_operations()]
    return next(op for op in operations if label is None or op.label == label)


def _stored_lines(api: str, test: str = "test_fuzz.test_operation") -> list[dict]:
    path = COMMITTED / api / f"{test}{cassettes.CASES_SUFFIX}"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]


@pytest.mark.parametrize("api", APIS)
def test_every_committed_case_reads_back_as_it_was_written(api):
    lines = _stored_lines(api)
    operations = {}
    modes, phases = set(), set()
    for line in lines:
        label = line["operation"]
        operation = operations.get(label) or operations.setdefault(label, _operation(api, label))
        case = decode(operation, line["case"])
        assert encode(case) == line["case"]
        modes.add(case.meta.generation.mode.value)
        phases.add(case.meta.phase.name.value)
    assert modes == {"positive", "negative"}  # both kinds are stored, and read back as what they were
    assert "fuzzing" in phases and (api == "superoffice" or "coverage" in phases)  # SuperOffice runs no coverage


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_a_generated_case_comes_back_equal(api, mode):
    operation = _operation(api)

    @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        case = data.draw(operation.as_strategy(generation_mode=mode))
        again = decode(operation, encode(case))
        assert dict(again.headers) == stored_cases._redacted(dict(case.headers))  # see the next test
        for part in ("method", "path_parameters", "cookies", "query", "body", "media_type"):
            assert getattr(again, part) == getattr(case, part), part
            assert type(getattr(again, part)) is type(getattr(case, part)), part
        assert again.meta.generation.mode == case.meta.generation.mode
        assert again.meta.phase.name == case.meta.phase.name
        assert again.meta.components == case.meta.components

    check()


def test_generated_credential_headers_are_stored_redacted_and_the_suites_invalid_token_kept():
    operation = _operation("itslearning")
    case = operation.Case(method="POST", headers={"Authorization": "Basic c2VjcmV0", "Accept": "application/json"},
                          body={"Subject": "s"}, media_type="application/json")
    assert encode(case)["headers"] == {"Authorization": cassettes.PLACEHOLDER, "Accept": "application/json"}
    invalid = operation.Case(method="POST", headers={"Authorization": f"Bearer {cassettes.INVALID_TOKEN}"})
    assert encode(invalid)["headers"] == {"Authorization": f"Bearer {cassettes.INVALID_TOKEN}"}


def test_bytes_and_an_absent_body_are_told_apart():
    operation = _operation("itslearning")
    raw = operation.Case(method="POST", body=b"\x00\xffbytes", media_type="application/octet-stream")
    assert decode(operation, encode(raw)).body == b"\x00\xffbytes"
    absent = operation.Case(method="POST")
    assert "body" not in encode(absent) and decode(operation, encode(absent)).body is NOT_SET
    null = operation.Case(method="POST", body=None, media_type="application/json")
    assert decode(operation, encode(null)).body is None


@pytest.mark.parametrize("body", [(1, 2), float("nan"), float("inf"), {1: "a"}, {"a": {1, 2}}, object()])
def test_what_json_cannot_carry_exactly_is_not_stored(body, tmp_path):
    operation = _operation("itslearning")
    cases = CaseFile(tmp_path / "t.cases.jsonl")
    cases.record(operation, operation.Case(method="POST", body={"a": 1}, media_type="application/json"))
    cases.record(operation, operation.Case(method="POST", body=body, media_type="application/json"))
    assert cases.unstorable
    cases.write()
    assert not cases.path.exists()  # the test's replay generates its cases instead


def _written(tmp_path, operation, count: int = 3) -> CaseFile:
    """A case file of `count` cases with the bodies {"n": 0}, {"n": 1}, ..."""
    cases = CaseFile(tmp_path / "t.cases.jsonl")
    for n in range(count):
        cases.record(operation, operation.Case(method="POST", body={"n": n}, media_type="application/json"))
    cases.write()
    return cases


def test_a_file_is_read_per_operation_in_order(tmp_path):
    operation = _operation("itslearning")
    again = CaseFile(_written(tmp_path, operation).path)
    assert [c["body"] for c in again.stored(operation)] == [{"n": 0}, {"n": 1}, {"n": 2}]
    other = next(op for op in (r.ok() for r in _schema("itslearning").get_all_operations()) if op != operation)
    assert again.stored(other) == []


def test_the_order_of_a_bodys_members_is_kept(tmp_path):
    """A form body's fields go on the wire in the dict's order: another order is another request."""
    operation = _operation("itslearning")
    cases = CaseFile(tmp_path / "t.cases.jsonl")
    body = {"Subject": "s", "ToPersonIds": [2, 1], "Text": "t", "BccPersonIds": []}
    cases.record(operation, operation.Case(method="POST", body=body, media_type="application/x-www-form-urlencoded"))
    cases.write()
    (stored,) = CaseFile(cases.path).stored(operation)
    assert list(decode(operation, stored).body) == list(body)
    assert json.dumps(decode(operation, stored).body) == json.dumps(body)


def test_no_file_or_a_file_of_another_schema_means_generating(tmp_path):
    operation = _operation("itslearning")
    assert CaseFile(tmp_path / "none.cases.jsonl").stored(operation) is None
    path = tmp_path / "t.cases.jsonl"
    path.write_text(json.dumps({"format": 1, "schema": "0" * 16}) + "\n", encoding="utf-8")
    assert CaseFile(path).stored(operation) is None


@pytest.mark.parametrize("text", ["", "not json\n", '{"format": 2, "schema": "x"}\n', "{}\n",
                                  '{"format": 1, "schema": "%s"}\n{"operation": "POST /x"}\n'])
def test_a_broken_file_is_refused_in_one_line_naming_it(text, tmp_path):
    operation = _operation("itslearning")
    path = tmp_path / "t.cases.jsonl"
    path.write_text(text.replace("%s", stored_cases.schema_digest(operation.schema)), encoding="utf-8")
    with pytest.raises(StoredCaseError) as raised:
        CaseFile(path).stored(operation)
    message = str(raised.value)
    assert str(path) in message and "\n" not in message and "record again" in message


def test_the_state_machines_committed_steps_read_back_in_order_across_operations(monkeypatch):
    """The itslearning state machine's kept steps: sends and gets, interleaved as they were
    taken (a get's id comes from the send before it), each as it was written."""
    schema = _schema("itslearning")
    path = COMMITTED / "itslearning" / f"test_stateful.test_send_then_get{cassettes.CASES_SUFFIX}"
    lines = _stored_lines("itslearning", "test_stateful.test_send_then_get")
    header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    monkeypatch.setattr(stored_cases, "schema_digest", lambda _: header["schema"])  # the suite's own schema's
    steps = CaseFile(path).sequence(schema)
    assert steps is not None and len(steps) == len(lines)
    assert [step.operation.label for step in steps] == [line["operation"] for line in lines]
    assert [encode(step) for step in steps] == [line["case"] for line in lines]
    assert {step.operation.label.split()[0] for step in steps} == {"POST", "GET"}
    assert {step.meta.phase.name.value for step in steps} == {"stateful"}


def test_a_sequence_keeps_the_order_of_every_operation_and_refuses_an_unknown_one(tmp_path):
    schema = _schema("itslearning")
    send, get = (_operation("itslearning", label) for label in
                 ("POST /restapi/personal/messages/send/v1", "GET /restapi/personal/messages/{messageId}/v1"))
    cases = CaseFile(tmp_path / "t.cases.jsonl")
    cases.record(send, send.Case(method="POST", body={"n": 0}, media_type="application/json"))
    cases.record(get, get.Case(method="GET", path_parameters={"messageId": 7}))
    cases.record(send, send.Case(method="POST", body={"n": 1}, media_type="application/json"))
    cases.write()
    steps = CaseFile(cases.path).sequence(schema)
    assert [(s.method, s.body if s.method == "POST" else s.path_parameters) for s in steps] == [
        ("POST", {"n": 0}), ("GET", {"messageId": 7}), ("POST", {"n": 1})]
    lines = cases.path.read_text(encoding="utf-8").splitlines()
    cases.path.write_text("\n".join([lines[0], lines[1].replace("send/v1", "nowhere/v1")]) + "\n", encoding="utf-8")
    with pytest.raises(StoredCaseError, match="a broken case of POST /restapi/personal/messages/nowhere/v1"):
        CaseFile(cases.path).sequence(schema)
    assert CaseFile(tmp_path / "none.cases.jsonl").sequence(schema) is None


def test_the_store_notes_steps_only_when_recording_and_gives_them_only_in_replay(tmp_path):
    schema = _schema("itslearning")
    send = _operation("itslearning", "POST /restapi/personal/messages/send/v1")
    step = send.Case(method="POST", body={"n": 0}, media_type="application/json")
    store = Store()
    for mode in ("live", "replay"):
        store.mode, store.current = mode, CaseFile(tmp_path / f"{mode}.cases.jsonl")
        store.note(step)
        assert store.current.recorded == []
    store.mode, store.current = "record", CaseFile(tmp_path / "t.cases.jsonl")
    store.note(step)
    assert store.sequence(schema) is None  # a recording runs the machine
    store.current.write()
    store.mode, store.current = "replay", CaseFile(tmp_path / "t.cases.jsonl")
    assert [s.body for s in store.sequence(schema)] == [{"n": 0}]
    store.mode = "live"
    assert store.sequence(schema) is None


def _build(store: Store, operation, test_func):
    def original(**kwargs):
        return ("generated", kwargs["test_func"])

    return store.build(original, operation=operation, test_func=test_func)


def test_recording_wraps_the_test_function_and_keeps_each_case_it_receives(tmp_path):
    operation = _operation("itslearning")
    seen = []
    store = Store()
    store.mode, store.current = "record", CaseFile(tmp_path / "t.cases.jsonl")
    kind, wrapped = _build(store, operation, lambda case, fixture: seen.append((case.body, fixture)))
    assert kind == "generated"
    for n in range(2):
        wrapped(case=operation.Case(method="POST", body={"n": n}, media_type="application/json"), fixture="f")
    assert seen == [({"n": 0}, "f"), ({"n": 1}, "f")]
    store.current.write()
    assert [c["body"] for c in CaseFile(store.current.path).stored(operation)] == [{"n": 0}, {"n": 1}]


def test_replay_calls_the_test_function_once_per_stored_case_and_raises_after_the_last(tmp_path):
    operation = _operation("itslearning")
    recorded = _written(tmp_path, operation)
    store = Store()
    store.mode, store.current = "replay", CaseFile(recorded.path)
    seen = []

    def test_func(case, fixture):
        seen.append(case.body["n"])
        if case.body["n"] == 1:
            raise RuntimeError("the harness could not judge")

    replay = _build(store, operation, test_func)
    with pytest.raises(RuntimeError):
        replay(fixture="f")
    assert seen == [0, 1, 2]  # every stored request is sent, as the recording sent it


def test_a_broken_case_in_a_readable_file_is_refused_before_anything_is_sent(tmp_path):
    operation = _operation("itslearning")
    path = _written(tmp_path, operation).path
    header, first, *rest = path.read_text(encoding="utf-8").splitlines()
    broken = json.loads(first)
    del broken["case"]["method"]
    path.write_text("\n".join([header, json.dumps(broken), *rest]) + "\n", encoding="utf-8")
    store = Store()
    store.mode, store.current = "replay", CaseFile(path)
    seen = []
    replay = _build(store, operation, lambda case: seen.append(case))
    with pytest.raises(StoredCaseError) as raised:
        replay()
    assert str(path) in str(raised.value) and operation.label in str(raised.value) and not seen


def test_replay_without_a_file_generates(tmp_path):
    store = Store()
    store.mode, store.current = "replay", CaseFile(tmp_path / "none.cases.jsonl")
    assert _build(store, _operation("itslearning"), print)[0] == "generated"
    store.current = None  # not a test of a recording run
    assert _build(store, _operation("itslearning"), print)[0] == "generated"


def test_the_builder_schemathesis_calls_is_the_one_wrapped():
    """`install` replaces a name inside Schemathesis' lazy schema module; if it moves, replay
    would silently generate again (and this fails)."""
    from schemathesis.pytest import lazy

    assert callable(lazy.build_operation_test)
    assert "build_operation_test(" in Path(lazy.__file__).read_text(encoding="utf-8").split("def get_all_tests", 1)[1]
    store = Store()
    before = lazy.build_operation_test
    try:
        stored_cases.install(store)
        assert lazy.build_operation_test is not before
        stored_cases.install(store)  # twice: still one wrapper around Schemathesis' own
        assert lazy.build_operation_test.__wrapped__ is getattr(before, "__wrapped__", before)
    finally:
        lazy.build_operation_test = before
