"""Progress on stderr (msgconform.progress), and selftest's use of it.

Not a terminal (a CI log): one line per step, with the task, n/N, what and elapsed time.
A terminal: an expected step replaces the line before it in place, a kept one stays.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from msgconform import selftest
from msgconform.progress import Progress, elapsed

LINE = re.compile(r"^msgconform: selftest: \[(\d+)/(\d+)] (.+?): (.+) \((\d+:\d\d) elapsed\)$")


def test_elapsed_is_minutes_and_seconds() -> None:
    assert [elapsed(s) for s in (0, 9.9, 61, 3599, 3600, 3725)] == ["0:00", "0:09", "1:01", "59:59",
                                                                    "1:00:00", "1:02:05"]


def test_in_a_log_every_step_is_one_line() -> None:
    log = io.StringIO()
    progress = Progress("selftest", 2, log)
    assert not progress.live  # a StringIO is not a terminal
    progress.started("itslearning send-200")  # nothing yet: the finished line says it
    progress.finished("itslearning send-200", "caught")
    progress.note("a note")
    progress.finished("highq hq-500", "NOT OK: missed", keep=True)
    progress.close()
    lines = log.getvalue().splitlines()
    assert LINE.match(lines[0]).groups()[:4] == ("1", "2", "itslearning send-200", "caught")
    assert lines[1] == "msgconform: selftest: a note"
    assert LINE.match(lines[2]).groups()[:4] == ("2", "2", "highq hq-500", "NOT OK: missed")
    assert len(lines) == 3 and "\r" not in log.getvalue()


def test_on_a_terminal_expected_steps_replace_each_other() -> None:
    screen = io.StringIO()
    progress = Progress("selftest", 3, screen, live=True)
    progress.started("a")
    progress.finished("a", "caught")
    progress.finished("b", "NOT OK", keep=True)
    progress.started("c")
    progress.close()
    text = screen.getvalue()
    assert text.count("\r\x1b[K") == 4
    assert text.endswith("[3/3] c ... (0:00 elapsed)\n")
    kept = [line.rsplit("\x1b[K", 1)[-1] for line in text.split("\n") if line]
    assert kept[0].startswith("msgconform: selftest: [2/3] b: NOT OK")  # a kept line ends with its newline


def test_selftest_says_each_run_with_its_count_and_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    def caught(d: Path) -> selftest.Finding:
        return selftest.Finding("fault", "itslearning", "send-200", expected=("ITS-SEND-002",))

    def missed(d: Path) -> selftest.Finding:
        return selftest.Finding("fault", "itslearning", "get-500", expected=("ITS-GET-001",), missed=["ITS-GET-001"])

    monkeypatch.setattr(selftest, "plan", lambda apis, names: [("itslearning send-200", caught),
                                                               ("itslearning get-500", missed)])
    log, out = io.StringIO(), io.StringIO()
    assert selftest.main(["itslearning"], ["x"], jobs=2, out=out, log=log) == 1
    lines = log.getvalue().splitlines()
    assert lines[0] == "msgconform: selftest: 2 runs, 2 at a time"
    steps = sorted(LINE.match(line).groups()[2:4] for line in lines[1:])
    assert steps == [("itslearning get-500", "NOT OK: missed by ITS-GET-001"), ("itslearning send-200", "caught")]
    assert sorted(LINE.match(line).group(1) for line in lines[1:]) == ["1", "2"]
    assert "| itslearning | fault | send-200 |" in out.getvalue()  # the table still goes to stdout
