"""`--jobs N` changes only how long a run takes; `--no-html` skips the HTML report (contracts.md §1).

One run of the embedded servers with `--jobs 1` and one with `--jobs 2` (few examples, to stay
cheap): the same stdout, the same conformance.json and conformance.md apart from `started`,
`finished` and each API's `target` (the embedded servers' ports), and each suite's log whole
and in API order on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_msgconform

pytestmark = pytest.mark.integration
VOLATILE = ("started", "finished")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("jobs")
    done = {}
    for jobs in (1, 2):
        done[jobs] = run_msgconform("run", "--jobs", jobs, "--no-html", "--max-examples", 2,
                                    "--report-dir", root / f"jobs{jobs}", timeout=600)
        assert done[jobs].status == 0, done[jobs]
    return root, done


def _comparable(report_dir: Path) -> dict:
    document = json.loads((report_dir / "conformance.json").read_text(encoding="utf-8"))
    for key in VOLATILE:
        assert document.pop(key)
    for api in document["apis"].values():
        assert api.pop("target").startswith("http://127.0.0.1:")
    return document


def test_jobs_1_and_2_write_the_same_conformance_json(runs):
    root, _ = runs
    one, two = _comparable(root / "jobs1"), _comparable(root / "jobs2")
    assert len(one["apis"]) >= 2, "needs two APIs to run at once"
    assert sum(case["checked"] for api in one["apis"].values() for case in api["cases"]) > 0
    assert one == two


def _matrix(report_dir: Path) -> str:
    """conformance.md with each API's target (it names the server's port) replaced."""
    text = (report_dir / "conformance.md").read_text(encoding="utf-8")
    document = json.loads((report_dir / "conformance.json").read_text(encoding="utf-8"))
    for api, result in document["apis"].items():
        assert result["target"] in text
        text = text.replace(result["target"], f"<{api} target>")
    return text


def test_jobs_1_and_2_print_the_same_summary_and_matrix(runs):
    root, done = runs
    assert done[1].stdout == done[2].stdout
    assert _matrix(root / "jobs1") == _matrix(root / "jobs2")


def test_with_two_jobs_each_suite_log_is_whole_and_in_api_order(runs):
    _, done = runs
    apis = [line.split(":")[0] for line in done[2].stdout.splitlines()]
    lines = done[2].stderr_lines
    starts = [lines.index(f"msgconform: running the suite for {api}") for api in apis]
    assert starts == sorted(starts)
    for api_start, next_start in zip(starts, starts[1:] + [len(lines)]):
        block = lines[api_start + 1:next_start]
        assert any(" passed" in line for line in block), block  # that suite's own pytest summary line


def test_no_html_builds_no_report_and_says_so_in_one_line(runs):
    root, done = runs
    for jobs in (1, 2):
        assert not (root / f"jobs{jobs}" / "html").exists() and not (root / f"jobs{jobs}" / "report.html").exists()
        [line] = [line for line in done[jobs].stderr_lines if "HTML" in line]
        assert "--no-html" in line and "msgconform report" in line
