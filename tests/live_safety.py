"""What the live-safety tests (tests/integration/test_*live_safety.py) share: a run against the
reference servers with every request logged, and the reading of that log.

    @pytest.fixture(scope="module")
    def logged_run(tmp_path_factory):
        return full_run(tmp_path_factory, "highq")          # (RunResult, [record, ...])

    assert_full_run(logged_run, more_than=100, methods={"POST"}, path="/demo/api/4/conversations/")
    request_body(record)                                    # the bytes sent (b"" for none)
    capped_run(tmp_path, "superoffice", edit)               # records of a run on an edited targets file
    as_id(value)                                            # the record id a lenient reader makes of it

A record is one line of the exchange log (`RunOptions.exchanges`): method, URL, body, status,
Location and response body, the bodies in base64; no headers, so no secrets.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path

from msgconform.runner import RunOptions, RunResult, run
from msgconform.servers.embedded import running_servers

INT64_MAX = 2**63 - 1
NUMBER = re.compile(r"\s*[+-]?\d+(\.0*)?\s*")
Records = list[dict]


def read_log(path: Path) -> Records:
    """Every record of an exchange log, in the order the requests were sent."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def full_run(tmp_path_factory, *apis: str) -> tuple[RunResult, Records]:
    """A run of `apis` (none: every API) against the embedded reference servers, 10 examples
    an operation, and every request it sent."""
    folder = tmp_path_factory.mktemp(f"{apis[0]}-safety" if len(apis) == 1 else "safety")
    log = folder / "exchanges.jsonl"
    result = run(RunOptions(apis=list(apis), max_examples=10, report_dir=folder / "reports", exchanges=log))
    return result, read_log(log)


def assert_full_run(logged_run: tuple[RunResult, Records], *, more_than: int, methods: set[str],
                    path: str | None = None) -> None:
    """The run ended with status 0 after more than `more_than` requests, which used exactly
    `methods` and (given `path`) all went to a URL whose path ends with `path`."""
    result, records = logged_run
    assert result.exit_status == 0, f"exit status {result.exit_status}"
    assert len(records) > more_than, f"{len(records)} requests"
    assert {r["method"] for r in records} == methods, {r["method"] for r in records}
    if path is not None:
        elsewhere = [r["url"] for r in records if not r["url"].split("?")[0].endswith(path)]
        assert not elsewhere, f"requests not to {path}: {elsewhere[:5]}"


def capped_run(tmp_path: Path, api: str, edit: Callable[[str], str]) -> Records:
    """Every request of a run of `api` (5 examples an operation) against its reference server,
    with the targets file `serve` would print changed by `edit` (a cap added, say)."""
    log = tmp_path / "exchanges.jsonl"
    with running_servers([api]) as servers:
        targets = tmp_path / "targets.toml"
        targets.write_text(edit(servers.targets_toml()), encoding="utf-8")
        run(RunOptions(targets=targets, apis=[api], max_examples=5, report_dir=tmp_path / "reports", exchanges=log))
    return read_log(log)


def request_body(record: dict) -> bytes:
    """The body a logged request sent, b"" where it sent none."""
    return base64.b64decode(record["body"]) if record["body"] else b""


def as_id(value) -> int | None:
    """The record id a lenient reader could make of `value` (a Java mapper, Json.NET: numeric
    strings and integral floats are numbers to them), or None when none can."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and NUMBER.fullmatch(value):
        value = int(float(value))
    return value if isinstance(value, int) and 1 <= value <= INT64_MAX else None
