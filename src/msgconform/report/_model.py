"""What every writer is fed: the run's settings and one result per API."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from msgconform.outcomes import ApiResult


@dataclass
class RunReport:
    mode: str  # live | record | replay
    strict: bool
    seed: int
    max_examples: int
    started: datetime
    finished: datetime
    apis: list[ApiResult] = field(default_factory=list)
    baseline: Any = None  # a msgconform.baseline.BaselineReport when run with --baseline
    interrupted: bool = False  # stopped by SIGINT or SIGTERM: reports for what was judged so far

    def totals(self) -> dict[str, int]:
        totals = {"pass": 0, "fail": 0, "non-strict": 0, "skip": 0, "error": 0}
        if self.baseline is not None:
            totals["waived"] = 0  # present with --baseline only (contracts.md section 5)
        for api in self.apis:
            for outcome, count in api.counts().items():
                totals[outcome] = totals.get(outcome, 0) + count
        return totals


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary name in the same folder, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; reports are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
