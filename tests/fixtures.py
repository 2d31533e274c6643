"""Fixtures shared by the project's own tests (loaded by the root conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from msgconform.servers.embedded import RunningServers, running_servers


@pytest.fixture
def itslearning_server() -> Iterator[RunningServers]:
    """A faithful itslearning reference server on a free loopback port, fresh state."""
    with running_servers(["itslearning"]) as servers:
        yield servers
