"""Run a few jobs at once, and hand back their results and logs in the order they were given.

    results = run_in_order([job_a, job_b, job_c], jobs=2, log=sys.stderr)

A job is a callable taking the stream it should log to (a real file: a subprocess may write
to it by descriptor). `msgconform run --jobs N` uses this for the per-API suite processes:
each is a separate `python -m pytest`, so threads here only wait on them.

Whatever the number of jobs, the caller sees the same thing: `results[i]` is what job `i`
returned, and the log holds each job's output whole and in the given order. With one job at
a time every job writes straight to `log`, as it runs; with more, each writes into a
temporary file of its own that is copied to `log` once it and every job before it are done
(so two suites' progress lines never interleave). The first job to raise stops the start
of the jobs not yet begun; the exception reaches the caller at once, without waiting for
the running ones (an interrupted run stops their processes itself).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO, TypeVar

T = TypeVar("T")

__all__ = ["default_jobs", "run_in_order"]


def default_jobs() -> int:
    """The number of cores this process may use (`--jobs` default)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_in_order(jobs_to_run: Sequence[Callable[[IO[str]], T]], *, jobs: int, log: IO[str]) -> list[T]:
    """Run every job, at most `jobs` at once; results and logs in the order given."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    if jobs == 1 or len(jobs_to_run) <= 1:
        return [job(log) for job in jobs_to_run]
    with tempfile.TemporaryDirectory(prefix="msgconform-logs-") as scratch, contextlib.ExitStack() as opened:
        # closed (by the ExitStack) before the folder they live in is removed
        streams = [
            opened.enter_context(open(os.path.join(scratch, f"{index}.log"), "a+", encoding="utf-8", errors="replace"))
            for index in range(len(jobs_to_run))
        ]
        pool = ThreadPoolExecutor(max_workers=min(jobs, len(jobs_to_run)))
        try:
            futures = [pool.submit(job, stream) for job, stream in zip(jobs_to_run, streams, strict=True)]
            results: list[T] = []
            for future, stream in zip(futures, streams, strict=True):
                try:
                    results.append(future.result())
                finally:
                    _copy(stream, log)
        except BaseException:
            # Not waiting for the running jobs: the caller (an interrupted run, say) stops
            # their processes itself, and must not wait for them to end on their own first.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        else:
            pool.shutdown(wait=True)
            return results


def _copy(stream: IO[str], log: IO[str]) -> None:
    stream.flush()
    stream.seek(0)
    shutil.copyfileobj(stream, log)
    log.flush()
