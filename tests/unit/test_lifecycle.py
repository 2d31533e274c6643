"""The run's lifecycle (msgconform.lifecycle): children registered, stopped on a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from msgconform import lifecycle
from msgconform.lifecycle import Interrupted, Lifecycle, describe_exit


def test_a_child_killed_by_a_signal_is_named_in_words():
    assert describe_exit(-9) == "killed by signal 9 (SIGKILL), most often the kernel's out-of-memory killer"
    assert describe_exit(-15) == "killed by signal 15 (SIGTERM)"
    assert describe_exit(0) is None and describe_exit(1) is None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_stopping_ends_every_child_and_its_grandchildren_and_runs_the_callbacks():
    stopped = []
    with Lifecycle() as life:
        assert lifecycle.current() is life
        # a child that ignores SIGTERM and has a grandchild: both must go
        child = life.spawn(["sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait"], stdout=subprocess.PIPE, text=True)
        grandchild = int(child.stdout.readline())
        life.on_stop(lambda: stopped.append("server"))
        started = time.monotonic()
    assert time.monotonic() - started < lifecycle.STOP_WITHIN
    assert child.poll() is not None
    gone_by = time.monotonic() + 1.0  # SIGKILL is delivered asynchronously to the group
    while _alive(grandchild) and time.monotonic() < gone_by:
        time.sleep(0.01)
    assert not _alive(grandchild)
    assert stopped == ["server"] and lifecycle.current() is None


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_interrupts_the_wait_and_the_handlers_are_restored(signum):
    before = signal.getsignal(signum)
    with Lifecycle() as life:
        child = life.spawn([sys.executable, "-c", "import time; time.sleep(60)"])
        threading.Timer(0.2, os.kill, (os.getpid(), signum)).start()
        with pytest.raises(Interrupted) as caught:
            life.wait(child, timeout=30)
        assert str(caught.value) == signal.Signals(signum).name and life.interrupted
        life.shield()
        os.kill(os.getpid(), signum)  # a second signal while the reports are written: recorded only
        time.sleep(0.05)
    assert child.poll() is not None
    assert signal.getsignal(signum) is before
