"""A broken or hostile vendor cannot hang, exhaust or blind the gate (issue 19).

The three misbehaving targets issue 19 met, as small local servers (tests/hostile.py):
a trickling answer, a decompression bomb, a 60 MB answer. For each, `msgconform run`
must end within a stated bound, its memory (msgconform and its suite process, measured
from their resource usage) must stay within a stated bound, the three reports must be
written and consistent, and the exit status must be 2 with one line naming the API and
the reason. And a SIGTERM in the middle of a run: reports written, no process left.

Bounds (generous for a shared 2-core machine; what they guard against is a hang of
minutes and memory in gigabytes, as issue 19 saw):

- time: 120 s for a run (with timeout = 1 s, five failures in a row stop the API);
- memory: 350 MiB peak resident size (measured here: 130 to 150 MiB for each; the
  bomb, decoded whole, would be 2 GiB);
- SIGTERM: the command exits within 5 s of the signal (the contract), plus 3 s for a
  loaded machine.
"""

from __future__ import annotations

import json
import os
import signal
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from msgconform.report import SCHEMA_PATH
from tests.helpers import Background, Completed
from tests.hostile import hostile_server, itslearning_targets, run_measured, without_html

RUN_BOUND = 120.0
MEMORY_BOUND = 350 * 2**20


def _reports(report_dir: Path) -> dict:
    document = json.loads((report_dir / "conformance.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    junit = ET.parse(report_dir / "junit.xml").getroot()
    markdown = (report_dir / "conformance.md").read_text(encoding="utf-8")
    # consistent with each other: the same cases, the same counts
    for api, result in document["apis"].items():
        suite = junit.find(f"testsuite[@name='{api}']")
        assert suite is not None and int(suite.get("tests")) == len(result["cases"])
        errors = sum(1 for case in result["cases"] if case["outcome"] == "error")
        assert int(suite.get("errors")) == errors
        assert f"| {api} | **{result['verdict']}** |" in markdown
    return document


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("trickle", "no complete answer within 1 s (the target's timeout)"),
        ("bomb", "the answer was larger than max_response_bytes (16 MiB) and was cut off"),
        ("huge", "the answer was larger than max_response_bytes (16 MiB) and was cut off"),
    ],
)
def test_a_misbehaving_target_ends_the_run_in_bounded_time_and_memory(tmp_path, mode, reason):
    with hostile_server(mode) as base_url:
        targets = tmp_path / "targets.toml"
        targets.write_text(itslearning_targets(base_url, timeout=1), encoding="utf-8")
        done, max_rss = run_measured("run", "--targets", targets, "--report-dir", tmp_path / "reports",
                                     "--max-examples", "2", timeout=RUN_BOUND + 30)
    assert done.seconds < RUN_BOUND, done
    assert max_rss < MEMORY_BOUND, f"peak resident size {max_rss / 2**20:.0f} MiB\n{done}"
    assert done.status == 2, done
    lines = [line for line in done.stderr_lines if line.startswith("msgconform: itslearning: ")]
    assert len(lines) == 1, done
    assert "transport failures in a row" in lines[0] and reason in lines[0], done
    assert done.stdout.strip().splitlines()[-1].startswith("itslearning: error ("), done
    document = _reports(tmp_path / "reports")
    result = document["apis"]["itslearning"]
    assert result["verdict"] == "error"
    assert "interrupted" not in document
    errors = [case for case in result["cases"] if case["outcome"] == "error"]
    assert errors and all("transport failures in a row" in case["details"] for case in errors)


def test_the_other_apis_go_on_when_one_api_is_stopped(tmp_path):
    from msgconform.servers.embedded import running_servers

    with hostile_server("huge") as huge_url, running_servers(["highq"]) as servers:
        targets = tmp_path / "targets.toml"
        targets.write_text(itslearning_targets(huge_url) + "\n" + servers.targets_toml(), encoding="utf-8")
        done, _ = run_measured("run", "--targets", targets, "--report-dir", tmp_path / "reports",
                               "--max-examples", "2", timeout=RUN_BOUND + 30)
    assert done.status == 2, done
    summary = done.stdout.strip().splitlines()
    assert summary[-2].startswith("itslearning: error (") and summary[-1].startswith("highq: conformant ("), done
    document = _reports(tmp_path / "reports")
    assert document["apis"]["highq"]["verdict"] == "conformant"


def test_max_duration_ends_a_run_that_is_merely_slow(tmp_path):
    with hostile_server("slow") as base_url:
        targets = tmp_path / "targets.toml"
        targets.write_text(itslearning_targets(base_url, max_duration=4), encoding="utf-8")
        done, _ = run_measured("run", "--targets", targets, "--report-dir", tmp_path / "reports",
                               "--max-examples", "2", timeout=RUN_BOUND + 30)
    assert done.seconds < RUN_BOUND and done.status == 2, done
    lines = [line for line in done.stderr_lines if line.startswith("msgconform: itslearning: ")]
    assert len(lines) == 1 and "stopped when max_duration (4 s) was reached" in lines[0], done
    document = _reports(tmp_path / "reports")
    assert any("max_duration (4 s)" in case["details"] for case in document["apis"]["itslearning"]["cases"])


def test_a_suite_process_killed_by_a_signal_is_named_in_one_line_and_the_reports_are_written(tmp_path):
    with hostile_server("slow") as base_url:
        targets = tmp_path / "targets.toml"
        targets.write_text(itslearning_targets(base_url), encoding="utf-8")
        run = Background("run", "--targets", targets, "--report-dir", tmp_path / "reports", "--max-examples", "2",
                     env=without_html())
        deadline = time.monotonic() + RUN_BOUND
        while time.monotonic() < deadline and not _children(run.process.pid):
            time.sleep(0.1)
        time.sleep(3)  # the suite is under way
        suite = min(_children(run.process.pid))  # the suite process itself (pytest), as the OOM killer would
        os.kill(suite, signal.SIGKILL)
        done = run.wait(timeout=60)
    assert done.status == 2, done
    lines = [line for line in done.stderr_lines if line.startswith("msgconform: itslearning: ")]
    assert lines == ["msgconform: itslearning: the suite process was killed by signal 9 (SIGKILL), "
                     "most often the kernel's out-of-memory killer"], done
    document = _reports(tmp_path / "reports")
    assert document["apis"]["itslearning"]["verdict"] == "error"


def _children(pid: int) -> set[int]:
    """Every live descendant of `pid` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rpartition(")")[2].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _sigterm_mid_run(tmp_path: Path, jobs: int, ready: Callable[[Background], bool]) -> tuple[Completed, set[int]]:
    """A run of itslearning (a reference server, answering at once) and highq (a trickling
    target, so the run is surely still under way) with `--jobs JOBS`, sent SIGTERM once
    `ready(run)` holds (or RUN_BOUND has passed, or the run has ended). Asserts what every
    SIGTERM must give: the command ends within 8 s of it with status 2, and no process that
    was under it at the signal is left. Returns what it left and those processes."""
    from msgconform.servers.embedded import running_servers

    with hostile_server("trickle") as slow_url, running_servers(["itslearning"]) as servers:
        targets = tmp_path / "targets.toml"
        targets.write_text(_two_apis(servers.targets_toml(), slow_url), encoding="utf-8")
        run = Background("run", "--targets", targets, "--report-dir", tmp_path / "reports", "--max-examples", "2",
                         "--jobs", str(jobs), env=without_html())
        deadline = time.monotonic() + RUN_BOUND
        while time.monotonic() < deadline and run.process.poll() is None and not ready(run):
            time.sleep(0.2)
        children = _children(run.process.pid)
        sent = time.monotonic()
        run.process.send_signal(signal.SIGTERM)
        done = run.wait(timeout=30)
        stopped_after = time.monotonic() - sent
    assert stopped_after < 8.0, done
    assert done.status == 2, done
    gone_by = time.monotonic() + 1.0  # a SIGKILL to a process group is delivered asynchronously
    while [pid for pid in children if _alive(pid)] and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert not [pid for pid in children if _alive(pid)], done
    return done, children


def test_sigterm_mid_run_writes_the_reports_and_leaves_no_process(tmp_path):
    # --jobs 1: the APIs one after the other, so itslearning is judged before highq starts;
    # the signal comes once highq's suite is under way.
    done, children = _sigterm_mid_run(tmp_path, 1, lambda run: (tmp_path / "reports").exists() and _highq_started(run))
    assert children, "the run had started no suite process yet"
    assert "interrupted" in done.stdout.strip().splitlines()[-1], done
    document = _reports(tmp_path / "reports")
    assert document["interrupted"] is True
    assert document["apis"]["itslearning"]["verdict"] == "conformant"  # judged before the signal
    highq = document["apis"]["highq"]["cases"]
    assert any("the run was interrupted (SIGTERM)" in case["details"] for case in highq)
    assert "Interrupted" in (tmp_path / "reports" / "conformance.md").read_text(encoding="utf-8")


def _two_apis(itslearning_toml: str, highq_url: str) -> str:
    highq = [
        "[highq]", f'base_url = "{highq_url}/demo/api"', "timeout = 5", "",
        "[highq.users.sender]", "id = 3001", 'token = "hq-sender-token"', "",
        "[highq.users.recipient]", "id = 3002", 'token = "hq-recipient-token"', "",
    ]
    return itslearning_toml + "\n" + "\n".join(highq)


def _highq_started(run: Background) -> bool:
    """True once the suite for highq is running (the runner says so on stderr)."""
    return _stderr_so_far(run).count("running the suite for") >= 2


_seen: dict[int, str] = {}


def _stderr_so_far(run: Background) -> str:
    import select

    stream = run.process.stderr
    text = _seen.get(id(run), "")
    while select.select([stream], [], [], 0)[0]:
        chunk = os.read(stream.fileno(), 65536).decode("utf-8", "replace")
        if not chunk:
            break
        text += chunk
    _seen[id(run)] = text
    return text


def test_sigterm_while_suites_run_concurrently_stops_them_all(tmp_path):
    # --jobs 2: both APIs' suite processes run at once; the signal must stop both within the
    # bound, not wait for a worker thread to see its suite end on its own.
    suites: set[int] = set()  # the suite processes seen last before the signal

    def both_suites_run(run: Background) -> bool:
        suites.clear()
        suites.update(pid for pid in _children(run.process.pid) if _is_suite(pid))
        return len(suites) >= 2

    _sigterm_mid_run(tmp_path, 2, both_suites_run)
    assert len(suites) >= 2, "the two suite processes never ran at once"
    document = _reports(tmp_path / "reports")
    assert document["interrupted"] is True
    assert set(document["apis"]) == {"itslearning", "highq"}


def _is_suite(pid: int) -> bool:
    try:
        return b"msgconform-targets" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
