"""Helpers for tests that use msgconform the way a person or a CI job does: as a command.

    done = run_msgconform("run", "--max-examples", "3", "--report-dir", tmp_path)
    done.status, done.stdout, done.stderr, done.seconds

    with serving("send-200") as server:          # `msgconform serve --port 0 --fault send-200`
        server.targets_text                      # the targets file it printed
        ...
    server.stopped                               # Completed, once the block has ended

Every command runs in a subprocess with a timeout, stdin closed and output captured, so a
test sees exactly what a user would see on stdout and stderr. `program` selects which
msgconform runs (default: this interpreter's, `python -m msgconform`); the packaging test
passes the console script of a freshly installed wheel.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from msgconform.errors import TargetsError
from msgconform.servers import AVAILABLE
from msgconform.targets import Targets, parse_targets

MSGCONFORM: tuple[str, ...] = (sys.executable, "-m", "msgconform")
REPO = Path(__file__).resolve().parents[1]
SERVE_START_TIMEOUT = 30.0


@dataclass
class Completed:
    """What a finished command left: exit status, both streams, and how long it took."""

    status: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def __str__(self) -> str:  # what pytest shows when an assertion about it fails
        return f"status {self.status} after {self.seconds:.1f} s\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a msgconform subprocess: ours, minus what would redirect imports."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def run_msgconform(
    *args: object,
    timeout: float = 120.0,
    cwd: Path | None = None,
    program: Sequence[str] = MSGCONFORM,
    env: dict[str, str] | None = None,
) -> Completed:
    """Run `msgconform ARGS...` to completion (killed after `timeout` seconds)."""
    return Background(*args, cwd=cwd, program=program, env=env).wait(timeout)


class Background:
    """A msgconform command started now and waited for later (slow runs overlap this way)."""

    def __init__(
        self,
        *args: object,
        cwd: Path | None = None,
        program: Sequence[str] = MSGCONFORM,
        env: dict[str, str] | None = None,
    ) -> None:
        self.command = [*program, *map(str, args)]
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            self.command,
            cwd=cwd,
            env=child_env() if env is None else env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._result: Completed | None = None

    def wait(self, timeout: float = 120.0) -> Completed:
        if self._result is None:
            remaining = max(1.0, timeout - (time.monotonic() - self.started))
            try:
                stdout, stderr = self.process.communicate(timeout=remaining)
            except subprocess.TimeoutExpired:
                self.process.kill()
                stdout, stderr = self.process.communicate()
                raise AssertionError(
                    f"{' '.join(self.command)} did not finish within {timeout:g} s\n--- stderr\n{stderr}"
                ) from None
            seconds = time.monotonic() - self.started
            self._result = Completed(self.process.returncode, stdout, stderr, seconds)
        return self._result

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def free_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_block(count: int = 4) -> int:
    """A loopback port N with N .. N+count-1 all free a moment ago (`serve --port N` binds
    one server per API at fixed offsets; on a busy machine one free port is not enough)."""
    for _ in range(50):
        base = free_port()
        if base + count > 65536:
            continue
        socks = []
        try:
            for offset in range(count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no block of {count} free ports found")


class Server:
    """A running `msgconform serve`: the targets file it printed, and its process."""

    def __init__(self, process: subprocess.Popen, stderr_file, targets_text: str, started: float) -> None:
        self.process = process
        self.targets_text = targets_text
        self.startup_seconds = time.monotonic() - started
        self.stopped: Completed | None = None
        self._stderr_file = stderr_file

    @property
    def targets(self) -> Targets:
        return parse_targets(self.targets_text, source="<serve>")

    def write_targets(self, path: Path, text: str | None = None) -> Path:
        path.write_text(self.targets_text if text is None else text, encoding="utf-8")
        return path

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 10.0) -> Completed:
        """Send `sig` and wait; `stdout` of the result is what came after the targets file."""
        if self.stopped is None:
            sent = time.monotonic()
            if self.process.poll() is None:
                self.process.send_signal(sig)
            try:
                rest, _ = self.process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                rest, _ = self.process.communicate()
            self._stderr_file.seek(0)
            stderr = self._stderr_file.read().decode("utf-8", "replace")
            self._stderr_file.close()
            self.stopped = Completed(self.process.returncode, rest.decode(), stderr, time.monotonic() - sent)
        return self.stopped


@contextmanager
def serving(
    *faults: str,
    port: int = 0,
    cwd: Path | None = None,
    program: Sequence[str] = MSGCONFORM,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """`msgconform serve --port PORT [--fault F]...` until the block ends (then SIGTERM)."""
    command = [*program, "serve", "--port", str(port)]
    for fault in faults:
        command += ["--fault", fault]
    stderr_file = tempfile.TemporaryFile()
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=child_env() if env is None else env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
    )
    server = None
    try:
        try:
            text = _read_targets(process, started + SERVE_START_TIMEOUT)
        except AssertionError as exc:
            stderr_file.seek(0)
            said = stderr_file.read().decode("utf-8", "replace")[-800:]
            raise AssertionError(f"{exc}\nserve's stderr:\n{said}") from None
        server = Server(process, stderr_file, text, started)
        yield server
    finally:
        if server is not None:
            server.stop()
        elif process.poll() is None:
            process.kill()
            process.wait()


def _read_targets(process: subprocess.Popen, deadline: float) -> str:
    """Read `serve`'s stdout until it holds a complete targets file naming every server."""
    received = b""
    fd = process.stdout.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            if process.poll() is not None:
                break
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        received += chunk
        try:
            if set(parse_targets(received.decode(), source="<serve>")) == set(AVAILABLE):
                return received.decode()
        except (TargetsError, UnicodeDecodeError):
            continue  # not all of it yet
    process.kill()
    process.wait()
    raise AssertionError(f"msgconform serve printed no complete targets file; stdout so far:\n{received!r}")
