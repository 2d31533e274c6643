"""`msgconform diff` as a user runs it (contracts.md section 6), on real runs.

- Two embedded runs of the same version: their reports diff to nothing (INFO details carry
  no ports, ids or times) and exit 0.
- The README's worked example: record the reference server, "upgrade" it (`serve --fault`),
  record again, diff the two cassette folders: the change is named and exits 1.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import Background, run_msgconform, serving

pytestmark = pytest.mark.integration


def test_two_embedded_runs_of_the_same_version_diff_to_nothing(tmp_path):
    first = Background("run", "--max-examples", "3", "--report-dir", tmp_path / "a")
    second = Background("run", "--max-examples", "3", "--report-dir", tmp_path / "b")
    for done in (first.wait(300), second.wait(300)):
        assert done.status == 0, done
    documents = [json.loads((tmp_path / side / "conformance.json").read_text(encoding="utf-8")) for side in "ab"]
    targets = {api["target"] for document in documents for api in document["apis"].values()}
    # each run had its own ports (one per API): the details below do not show them
    assert len(targets) == sum(len(document["apis"]) for document in documents)
    ports = {re.search(r":(\d+)", target).group(1) for target in targets}
    for document in documents:
        for api in document["apis"].values():
            for case in api["cases"]:
                assert not any(port in case["details"] for port in ports), case
    done = run_msgconform("diff", tmp_path / "a", tmp_path / "b")
    assert done.status == 0, done
    assert "No differences." in done.stdout and done.stderr == ""
    done = run_msgconform("diff", tmp_path / "a" / "conformance.json", tmp_path / "b", "--format", "json")
    document = json.loads(done.stdout)
    assert done.status == 0 and document["regression"] is False
    assert all(not api["changes"] and not api["regressions"] for api in document["apis"].values())


def test_the_readme_worked_example_names_the_upgrade(tmp_path):
    before = run_msgconform("run", "--api", "itslearning", "--record", "--cassette-dir", tmp_path / "cassettes-before",
                            "--report-dir", tmp_path / "r1", "--max-examples", "3", timeout=300)
    assert before.status == 0, before
    with serving("send-no-location", cwd=tmp_path) as server:  # the vendor's "new version"
        targets = server.write_targets(tmp_path / "vendor.toml")
        after = run_msgconform("run", "--targets", targets, "--api", "itslearning", "--record",
                               "--cassette-dir", tmp_path / "cassettes-after", "--report-dir", tmp_path / "r2",
                               "--max-examples", "3", timeout=300)
    assert after.status == 1, after
    done = run_msgconform("diff", tmp_path / "cassettes-before", tmp_path / "cassettes-after")
    assert done.status == 1, done
    regressions = done.stdout.split("## Regressions", 1)[1].split("\n## ", 1)[0]
    assert "| itslearning | headers: removed | `POST /restapi/personal/messages/send/v1 → 201 (no body)` | `location` |" \
        in regressions, done.stdout
    refused = run_msgconform("diff", tmp_path / "cassettes-before", tmp_path / "r2")
    assert refused.status == 2 and len(refused.stderr_lines) == 1 and "like with like" in refused.stderr
