"""Generated cases kept beside a cassette, so that a replay does not generate them again.

A replay that regenerates every fuzz case does the same work as a live run: Hypothesis and
Schemathesis' coverage phase were about 40% of a suite process, the exchange itself a few
percent. So a recording also writes, for each Schemathesis test, the cases it generated,
in the order the test function received them: `<cassette-dir>/<api>/<test>.cases.jsonl`
beside `<test>.yaml`. A replay hands the same cases to the same test function, in the same
order, and everything after generation (the identifier rewrite, Accept, the checks, the
follow-ups) runs as it runs live, so the requests are the recorded ones byte for byte.

How it is wired: Schemathesis' lazy schema (`schema.parametrize()` over a fixture) builds one
Hypothesis test per operation with `build_operation_test` and runs each as a subtest. Here
that builder is wrapped (`install`):

- record: the test function is wrapped to write down each case it receives, then runs as
  before; the Hypothesis test is Schemathesis' own.
- replay: when the test's case file exists and was made from the same schema document
  (a digest of it; the manifest holds the seed and max-examples), each operation's test is a plain loop over its
  stored cases instead of a Hypothesis test. Without such a file (a recording older than
  this, or a spec changed since), the cases are generated as before.

A case is stored only when JSON carries it exactly: method, path parameters, headers,
cookies, query, the body (bytes as base64), the media type and Schemathesis' own metadata
(`CaseMetadata.to_dict`: generation mode, phase, ...; the generation time written as 0 so
that two recordings of the same cases are the same file). A test with one case JSON cannot
carry exactly writes no file, and its replay generates. The cases are what the generator
made, before the harness rewrites identifiers or the SuperOffice suite makes a body safe:
generated values only, never a run value; generated values of credential headers are stored
as `[redacted]`, as a cassette stores credentials.

A state machine's steps are kept the same way, in the order it took them, by the suite's
machine itself (`Store.note` as each step is called); its replay takes the steps in that
order (`Store.sequence`) instead of running the machine. The responses a step's successors
were built from are the recorded ones, so the steps are the same requests.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from schemathesis.core import NOT_SET
from schemathesis.generation.meta import CaseMetadata

from msgconform.cassettes import PLACEHOLDER, is_secret_header

FORMAT = 1


class StoredCaseError(Exception):
    """A case file that cannot be read (the suite reports it as a harness error)."""


class _Unstorable(Exception):
    """A generated value JSON cannot carry exactly."""


# --- one case, both ways -----------------------------------------------------------------------


def encode(case: Any) -> dict:
    """`case` as JSON data; raises `_Unstorable` when JSON would not give it back exactly."""
    meta = case.meta.to_dict() if case.meta is not None else None
    if meta is not None:
        meta["generation"]["time"] = 0.0
        if isinstance(meta.get("raw_containers", {}).get("HEADER"), dict):
            meta["raw_containers"]["HEADER"] = _redacted(meta["raw_containers"]["HEADER"])
    data: dict[str, Any] = {
        "method": case.method,
        "path_parameters": dict(case.path_parameters or {}),
        "headers": _redacted(dict(case.headers or {})),
        "cookies": dict(case.cookies or {}),
        "query": dict(case.query or {}),
        "media_type": case.media_type,
        "multipart_content_types": case.multipart_content_types,
        "meta": meta,
    }
    if isinstance(case.body, bytes):
        data["body_base64"] = base64.b64encode(case.body).decode("ascii")
    elif case.body is not NOT_SET:
        data["body"] = case.body
    _exact(data)
    return data


def _redacted(headers: dict) -> dict:
    """Generated values of credential headers (Schemathesis writes some for the security
    schemes) stored as the cassette stores every credential: `[redacted]`. The harness sends
    the role's own credentials over them, and the matcher never compares their values."""
    return {name: PLACEHOLDER if is_secret_header(name, value) else value for name, value in headers.items()}


def decode(operation: Any, data: dict) -> Any:
    """The case `encode` wrote, as a Schemathesis case of `operation`."""
    if "body_base64" in data:
        body: Any = base64.b64decode(data["body_base64"])
    else:
        body = data.get("body", NOT_SET)
    meta = data.get("meta")
    return operation.Case(
        method=data["method"],
        path_parameters=data["path_parameters"],
        headers=data["headers"],
        cookies=data["cookies"],
        query=data["query"],
        body=body,
        media_type=data["media_type"],
        multipart_content_types=data["multipart_content_types"],
        _meta=CaseMetadata.from_dict(meta) if meta is not None else None,
    )


def _exact(value: Any) -> None:
    """Raise `_Unstorable` unless `json.loads(json.dumps(value))` is `value`, types included."""
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Unstorable(f"the number {value!r}")
        return
    if isinstance(value, list):
        for item in value:
            _exact(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Unstorable(f"the key {key!r}")
            _exact(item)
        return
    raise _Unstorable(f"a value of type {type(value).__name__}")


def schema_digest(schema: Any) -> str:
    """What a test's generated cases depend on besides the seed and max-examples (which the
    manifest holds and a replay must match): the schema document they were generated from."""
    document = json.dumps(schema.raw_schema, sort_keys=True, default=repr)
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# --- one test's file ------------------------------------------------------------------------------


class CaseFile:
    """The cases of one test: written while recording, read for its replay."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digest: str | None = None
        self.recorded: list[tuple[str, dict]] = []
        self.unstorable: str | None = None
        self._read_done = False
        self._stored: list[tuple[str, dict]] | None = None  # None, once read: generate instead

    def record(self, operation: Any, case: Any) -> None:
        if self.unstorable is not None:
            return
        self.digest = self.digest or schema_digest(operation.schema)
        try:
            self.recorded.append((operation.label, encode(case)))
        except _Unstorable as exc:
            self.unstorable = f"{operation.label}: {exc}"

    def write(self) -> None:
        """The file, if every case of the test could be stored (else none: replay generates)."""
        if not self.recorded or self.unstorable is not None:
            return
        # One case a line, in the order received (JSON keeps each dict's order: a form body's
        # fields go on the wire in it), compact: a coverage phase writes a thousand cases.
        lines = [json.dumps({"format": FORMAT, "schema": self.digest})]
        lines += [
            json.dumps({"operation": label, "case": data}, separators=(",", ":")) for label, data in self.recorded
        ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def stored(self, operation: Any) -> list[dict] | None:
        """The recorded cases of `operation` in order, or None when the replay must generate
        (no file, or a file made from another schema document)."""
        entries = self._entries(operation.schema)
        return None if entries is None else [data for label, data in entries if label == operation.label]

    def sequence(self, schema: Any) -> list[Any] | None:
        """Every recorded case in the order recorded, decoded, whatever its operation (a
        state machine's steps); None when the replay must generate."""
        entries = self._entries(schema)
        if entries is None:
            return None
        operations: dict[str, Any] = {}
        cases = []
        for label, data in entries:
            try:
                if label not in operations:
                    method, _, path = label.partition(" ")
                    operations[label] = schema[path][method]
                cases.append(decode(operations[label], data))
            except (LookupError, TypeError, ValueError, AttributeError) as exc:
                problem = f"a broken case of {label} ({type(exc).__name__})"
                raise StoredCaseError(f"{self.path}: {problem}; record again") from None
        return cases

    def _entries(self, schema: Any) -> list[tuple[str, dict]] | None:
        if not self._read_done:
            self._stored, self._read_done = self._read(schema_digest(schema)), True
        return self._stored

    def _read(self, digest: str) -> list[tuple[str, dict]] | None:
        if not self.path.is_file():
            return None
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
            header = json.loads(lines[0])
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise StoredCaseError(f"{self.path}: not a msgconform case file of format {FORMAT}; record again")
            if header.get("schema") != digest:
                return None
            entries = []
            for line in lines[1:]:
                entry = json.loads(line)
                label, data = entry["operation"], entry["case"]
                if not isinstance(label, str) or not isinstance(data, dict):
                    raise TypeError("an entry is not an operation and a case")
                entries.append((label, data))
            return entries
        except (OSError, ValueError, IndexError, KeyError, TypeError) as exc:
            raise StoredCaseError(f"{self.path}: a broken case file ({type(exc).__name__}); record again") from None


# --- the builder, wrapped -----------------------------------------------------------------------


class Store:
    """The current test's cases (set by the recording plugin around each test)."""

    def __init__(self) -> None:
        self.mode = "live"
        self.current: CaseFile | None = None

    def note(self, case: Any) -> None:
        """A state machine's step, written down in order while recording."""
        if self.mode == "record" and self.current is not None:
            self.current.record(case.operation, case)

    def sequence(self, schema: Any) -> list[Any] | None:
        """A state machine's recorded steps, in order, for its replay; None when it must run
        (live, recording, or no kept steps)."""
        if self.mode != "replay" or self.current is None:
            return None
        return self.current.sequence(schema)

    def build(self, original: Callable, **kwargs: Any) -> Callable:
        """`build_operation_test(**kwargs)` as record or replay needs it."""
        cases = self.current
        operation = kwargs["operation"]
        if cases is None:
            return original(**kwargs)
        test_func = kwargs["test_func"]
        if self.mode == "record":
            return original(**{**kwargs, "test_func": _recording(test_func, cases, operation)})
        stored = cases.stored(operation)
        if stored is None:
            return original(**kwargs)
        return _replaying(test_func, operation, stored, cases.path)


def _recording(test_func: Callable, cases: CaseFile, operation: Any) -> Callable:
    @functools.wraps(test_func)
    def recording(*args: Any, **kwargs: Any) -> Any:
        cases.record(operation, kwargs["case"])
        return test_func(*args, **kwargs)

    return recording


def _replaying(test_func: Callable, operation: Any, stored: list[dict], path: Path) -> Callable:
    def replay(**fixtures: Any) -> None:
        """Every stored case, in order; an exception is raised once all were sent, as the
        recording sent all of them (Hypothesis, too, calls the test again after a failure).
        All are read before the first is sent: a broken one sends nothing."""
        try:
            cases = [decode(operation, data) for data in stored]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StoredCaseError(
                f"{path}: a broken case of {operation.label} ({type(exc).__name__}); record again"
            ) from None
        first: BaseException | None = None
        for case in cases:
            try:
                test_func(case=case, **fixtures)
            except Exception as exc:  # noqa: BLE001  (raised below, once the rest are sent)
                first = first or exc
        if first is not None:
            raise first

    return replay


STORE = Store()  # the current test's cases; the recording plugin sets it around each test


def install(store: Store) -> None:
    """Route Schemathesis' per-operation test builder through `store` (once per process)."""
    from schemathesis.pytest import lazy

    original = getattr(lazy.build_operation_test, "__wrapped__", lazy.build_operation_test)

    @functools.wraps(original)
    def build_operation_test(**kwargs: Any) -> Callable:
        return store.build(original, **kwargs)

    lazy.build_operation_test = build_operation_test
