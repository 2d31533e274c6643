"""run_in_order: at most N jobs at once, results and logs in the order given."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time

import pytest

from msgconform.concurrency import default_jobs, run_in_order


def _job(name: str, delay: float, running: list[int], peak: list[int], lock: threading.Lock):
    def job(log):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        print(f"{name} starts", file=log, flush=True)
        # a subprocess writes to the same log by descriptor, as a suite process does
        subprocess.run([sys.executable, "-c", f"print('{name} child')"], stdout=log, check=True)
        time.sleep(delay)
        print(f"{name} ends", file=log, flush=True)
        with lock:
            running[0] -= 1
        return name
    return job


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_results_and_logs_come_in_the_given_order_whatever_finishes_first(tmp_path, jobs):
    running, peak, lock = [0], [0], threading.Lock()
    work = [_job("a", 0.6, running, peak, lock), _job("b", 0.0, running, peak, lock), _job("c", 0.1, running, peak, lock)]
    with open(tmp_path / "log", "w+", encoding="utf-8") as log:
        assert run_in_order(work, jobs=jobs, log=log) == ["a", "b", "c"]
        log.seek(0)
        lines = log.read().splitlines()
    assert lines == [f"{n} {what}" for n in "abc" for what in ("starts", "child", "ends")]
    assert peak[0] == min(jobs, 3)


def test_the_first_failure_reaches_the_caller_and_later_jobs_do_not_start():
    started = []

    def failing(log):
        raise RuntimeError("boom")

    def later(log):
        started.append("later")
        time.sleep(0.3)  # the caller has seen the failure (and cancelled the rest) long before this ends
        return "later"

    def slow(log):
        time.sleep(0.3)
        return "slow"

    with pytest.raises(RuntimeError, match="boom"):
        run_in_order([failing, slow, later, later], jobs=2, log=io.StringIO())
    assert len(started) <= 1  # at most the one that took the free worker before the failure was seen


def test_bad_jobs_and_the_default():
    with pytest.raises(ValueError):
        run_in_order([], jobs=0, log=io.StringIO())
    assert default_jobs() >= 1
