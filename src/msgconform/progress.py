"""Progress of long work on stderr: what is being done, how far along, for how long.

    progress = Progress("selftest", total=len(work))
    progress.finished("itslearning send-200", "caught")
    # msgconform: selftest: [1/80] itslearning send-200: caught (0:14 elapsed)

`selftest` and `msgconform run` say what they are doing while they do it. Where the
stream is not a terminal (a CI log, a file), every step is one line of its own, so a log
reads top to bottom. On a terminal, a step that went as expected replaces the previous
such line in place (carriage return, erase line), and a step that did not (``keep=True``)
or a `note` stays on screen; the last line is ended by `close`.

Only stderr gets progress: stdout carries what the contract puts there.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

__all__ = ["Progress", "elapsed"]

_ERASE = "\r\x1b[K"


def elapsed(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss`` from an hour on)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts steps of a known total and says each one on `stream` (default stderr)."""

    def __init__(self, task: str, total: int, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.task = task
        self.total = total
        self.done = 0
        self.stream = sys.stderr if stream is None else stream
        self.live = _is_terminal(self.stream) if live is None else live
        self._started = time.monotonic()
        self._pending = False  # a live line is on screen without its newline
        self._lock = threading.Lock()  # steps may finish in worker threads

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._started

    def started(self, what: str) -> None:
        """Step ``done + 1`` begins (shown on a terminal; in a log, the finished line says it)."""
        with self._lock:
            if self.live:
                self._write(f"[{self.done + 1}/{self.total}] {what} ...", keep=False)

    def finished(self, what: str, outcome: str, *, keep: bool = False) -> None:
        """One more step done; `keep` leaves its line on a terminal (something to look at)."""
        with self._lock:
            self.done += 1
            self._write(f"[{self.done}/{self.total}] {what}: {outcome}", keep=keep or not self.live)

    def note(self, text: str) -> None:
        """A line that is not a step (always kept)."""
        with self._lock:
            self._write(text, keep=True, counted=False)

    def close(self) -> None:
        with self._lock:
            if self._pending:
                self.stream.write("\n")
                self.stream.flush()
                self._pending = False

    def _write(self, text: str, *, keep: bool, counted: bool = True) -> None:
        line = f"msgconform: {self.task}: {text}" + (f" ({elapsed(self.seconds)} elapsed)" if counted else "")
        if self.live:
            self.stream.write(_ERASE + line + ("\n" if keep else ""))
            self._pending = not keep
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
