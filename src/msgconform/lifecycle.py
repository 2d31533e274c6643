"""The life of a run: every process and server it starts is registered here, and a run
that is interrupted (SIGINT, SIGTERM -- a CI system cancelling a job) stops them all.

    with Lifecycle() as life:                   # installs the signal handlers (main thread)
        life.on_stop(server.stop)               # anything with a stop: servers, sinks, ...
        process = life.spawn(command, ...)      # a child in its own process group
        status = life.wait(process, timeout=s)  # Interrupted if a signal came meanwhile
    # leaving the block stops whatever is still running, children first, then callbacks

Design:

- The first SIGINT or SIGTERM raises `Interrupted` in the main thread, wherever it is
  blocked (waiting for a suite, a preflight, a server to start). The run then stops every
  child, reads what was judged so far and writes its reports; a second signal during
  that is recorded but does not interrupt the writing.
- Children get their own session (process group) when the lifecycle handles the signals,
  so a terminal's Ctrl-C reaches only msgconform, which decides; stopping a child signals its whole group (SIGTERM, then
  SIGKILL after `grace` seconds), so grandchildren go too. Everything is stopped within
  `STOP_WITHIN` seconds.
- `current()` is the lifecycle of the run in progress in this thread (or None), so code
  that starts processes deep down (a sink, a server) registers them without plumbing:
  ``life = lifecycle.current(); process = life.spawn(...) if life else subprocess.Popen(...)``.
- `describe_exit(status)` names a child's end in words: "killed by signal 9 (SIGKILL),
  most often the kernel's out-of-memory killer".
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

STOP_WITHIN = 5.0  # seconds: the promise to a CI system that cancels the job
GRACE = 1.5  # seconds between SIGTERM and SIGKILL for a child

__all__ = ["GRACE", "STOP_WITHIN", "Interrupted", "Lifecycle", "current", "describe_exit", "signal_name"]

_local = threading.local()  # the lifecycles entered in this thread, innermost last


def _stack() -> list[Lifecycle]:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


class Interrupted(Exception):
    """The run received SIGINT or SIGTERM; str() names the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def describe_exit(status: int) -> str | None:
    """A child's end in words when a signal killed it (status < 0, as subprocess gives it)."""
    if status >= 0:
        return None
    signum = -status
    text = f"killed by signal {signum} ({signal_name(signum)})"
    if signum == signal.SIGKILL:
        text += ", most often the kernel's out-of-memory killer"
    return text


def current() -> Lifecycle | None:
    """The lifecycle of the run in progress, if any."""
    stack = _stack()
    return stack[-1] if stack else None


class Lifecycle:
    def __init__(self, *, grace: float = GRACE, signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM)) -> None:
        self.grace = grace
        self.signals = tuple(signals)
        self.received: int | None = None  # the first signal, once one came
        self._processes: list[subprocess.Popen] = []
        self._callbacks: list[Callable[[], Any]] = []
        self._previous: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._raised = False

    # --- the block ---------------------------------------------------------------------

    def __enter__(self) -> Lifecycle:
        if threading.current_thread() is threading.main_thread():
            for signum in self.signals:
                self._previous[signum] = signal.signal(signum, self._on_signal)
        _stack().append(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self.stop_all()
        finally:
            stack = _stack()
            if stack and stack[-1] is self:
                stack.pop()
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.received is None:
            self.received = signum
        if not self._raised:
            self._raised = True
            raise Interrupted(signum)

    @property
    def interrupted(self) -> bool:
        return self.received is not None

    def shield(self) -> None:
        """From now on a signal is recorded, never raised: what remains (writing the
        reports) must finish, and `interrupted` still tells the run it came."""
        self._raised = True

    def check(self) -> None:
        """Raise Interrupted if a signal came (for code that swallowed it, e.g. in a thread)."""
        if self.received is not None and not self._raised:
            self._raised = True
            raise Interrupted(self.received)

    # --- what the run starts -----------------------------------------------------------

    def spawn(self, command: Sequence[str], **popen: Any) -> subprocess.Popen:
        """Start a child, registered to be stopped: in its own process group when this
        lifecycle handles the signals (else, e.g. in a worker thread of `selftest`, in
        ours, so that a terminal's Ctrl-C still reaches it)."""
        process = subprocess.Popen(list(command), start_new_session=bool(self._previous), **popen)
        with self._lock:
            self._processes.append(process)
        return process

    def adopt(self, process: subprocess.Popen) -> subprocess.Popen:
        """Register a child started elsewhere (best in its own session) to be stopped."""
        with self._lock:
            self._processes.append(process)
        return process

    def on_stop(self, callback: Callable[[], Any]) -> None:
        """Call `callback` when the run stops (last registered, first called)."""
        with self._lock:
            self._callbacks.append(callback)

    def wait(self, process: subprocess.Popen, timeout: float | None = None) -> int | None:
        """The child's exit status, or None if it still runs after `timeout` seconds."""
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    # --- stopping ------------------------------------------------------------------------

    def stop(self, process: subprocess.Popen) -> None:
        """Stop one child and its process group: SIGTERM, then SIGKILL after `grace`."""
        _stop_processes([process], self.grace)

    def stop_all(self) -> None:
        """Stop every registered child (at once, in parallel), then run the callbacks."""
        with self._lock:
            processes, self._processes = self._processes, []
            callbacks, self._callbacks = self._callbacks, []
        _stop_processes(processes, self.grace)
        for callback in reversed(callbacks):
            with contextlib.suppress(Exception):  # one broken teardown must not keep the others running
                callback()


def _stop_processes(processes: list[subprocess.Popen], grace: float) -> None:
    alive = [p for p in processes if p.poll() is None]
    for process in alive:
        _signal_group(process, signal.SIGTERM)
    end = time.monotonic() + grace
    while alive and time.monotonic() < end:
        alive = [p for p in alive if p.poll() is None]
        if alive:
            time.sleep(0.02)
    for process in processes:  # also the group of a child that ended by itself: grandchildren
        _signal_group(process, signal.SIGKILL)
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1.0)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)  # the child leads its own group (start_new_session)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, OSError):
            process.send_signal(signum)
