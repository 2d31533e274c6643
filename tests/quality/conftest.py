"""Shared by the quality group: the faithful servers' recordings, made once per worker.

`faithful_recording(api)` runs the faithful reference server of `api` through the
self-test (`selftest.check_faithful`), recording cassettes as it goes, and returns the
finding and the cassette folder. The faithful-server test asserts the finding; the
behaviour-diff checks of every fault and variant diff their own run's recording against
the folder. So each worker makes one faithful run per API, and no run is made twice for
the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from msgconform import selftest


@pytest.fixture(scope="session")
def faithful_recording(tmp_path_factory) -> Callable[[str], tuple[selftest.Finding, Path]]:
    made: dict[str, tuple[selftest.Finding, Path]] = {}

    def get(api: str) -> tuple[selftest.Finding, Path]:
        if api not in made:
            folder = tmp_path_factory.mktemp(f"faithful-{api}")
            finding = selftest.check_faithful(api, folder / "reports", record_to=folder / "cassettes")
            made[api] = (finding, folder / "cassettes")
        return made[api]

    return get
