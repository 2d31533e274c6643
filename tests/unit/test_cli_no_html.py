"""`msgconform run --no-html` (contracts.md section 1): the HTML report is skipped, and one line says how
to build it later.

The run itself is replaced by a stub that returns an empty report, so that this checks only
what the command line does after the run: without the flag it builds the HTML report (here
a recording stand-in for the Allure builder), with it the builder is never asked.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from msgconform import cli, runner
from msgconform.report import RunReport, allure_html


@pytest.fixture
def html_builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    now = datetime.now(timezone.utc)
    report = RunReport(mode="live", strict=False, seed=1, max_examples=1, started=now, finished=now)
    monkeypatch.setattr(runner, "run", lambda options: runner.RunResult(report, 0))
    built: list[Path] = []
    monkeypatch.setattr(allure_html, "missing", lambda: None)
    monkeypatch.setattr(allure_html, "build_html", lambda d: (built.append(d), (d / "html", d / "report.html"))[1])
    return built


def test_without_the_flag_the_html_report_is_built(html_builds: list[Path], tmp_path: Path) -> None:
    assert cli.main(["run", "--report-dir", str(tmp_path)]) == 0
    assert html_builds == [tmp_path]


def test_no_html_skips_the_html_report(html_builds: list[Path], tmp_path: Path, capsys) -> None:
    assert cli.main(["run", "--no-html", "--report-dir", str(tmp_path)]) == 0
    assert html_builds == []
    [line] = [line for line in capsys.readouterr().err.splitlines() if "HTML" in line]
    assert "--no-html" in line and "msgconform report" in line  # one line: why, and how to build it later
