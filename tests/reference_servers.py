"""What every reference-server test module needs: a client per running server, the two
fixtures (the faithful server, and a fresh one with one fault or variant on), and the
registry of fault checks with the three tests every API runs over it.

    class Hq(ServerClient):
        API = "highq"

    hq = faithful(Hq)
    server_with = with_fault(Hq)
    CHECKS = FaultChecks("highq")

    @CHECKS("success-202")
    def _(s: Hq) -> None: ...

    (test_every_fault_and_variant_has_a_check, test_fault_or_variant_changes_what_it_says,
     test_the_faithful_server_does_not_show_it) = CHECKS.tests("hq")   # at the end of the module

A check shows one fault or variant at work on a server that has it switched on, and must
fail (AssertionError) on the faithful server; `tests()` turns the registry into those proofs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from msgconform.servers import faults
from msgconform.servers.embedded import running_servers

C = TypeVar("C", bound="ServerClient")


class ServerClient:
    """An httpx client for one running server of `API` (subclasses add the calls they repeat)."""

    API = ""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10)


def faithful(client: type[C]) -> Any:
    """A module-scoped fixture: the faithful server of `client.API` and a client for it."""

    @pytest.fixture(scope="module")
    def fixture() -> Iterator[C]:
        with running_servers([client.API]) as servers:
            started = client(servers.base_urls[client.API])
            yield started
            started.http.close()

    return fixture


def with_fault(client: type[C]) -> Any:
    """A fixture giving `start(name)`: a fresh server with that fault or variant on (stopped after the test)."""

    @pytest.fixture
    def fixture() -> Iterator[Callable[[str], C]]:
        stack: list = []

        def start(name: str) -> C:
            context = running_servers([client.API], faults=[name])
            started = client(context.__enter__().base_urls[client.API])
            stack.append((started, context))
            return started

        yield start
        for started, context in stack:
            started.http.close()
            context.__exit__(None, None, None)

    return fixture


class FaultChecks:
    """The checks of one API's faults and variants, by name."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.checks: dict[str, Callable[[Any], None]] = {}

    def __call__(self, name: str) -> Callable:
        """Register the check that shows fault or variant `name` at work on a server that has it."""

        def register(function: Callable[[Any], None]) -> Callable[[Any], None]:
            self.checks[name] = function
            return function

        return register

    def tests(self, faithful_fixture: str) -> tuple[Callable, Callable, Callable]:
        """The three proofs over the registry (call once every check is registered):
        every entry of faults.yaml has a check; each check passes with its fault or variant
        on; each fails on the faithful server (the fixture called `faithful_fixture`)."""
        checks, api = self.checks, self.api

        def test_every_fault_and_variant_has_a_check() -> None:
            assert set(checks) == {entry.name for entry in faults.for_api(api)}

        @pytest.mark.parametrize("name", sorted(checks))
        def test_fault_or_variant_changes_what_it_says(server_with: Callable[[str], Any], name: str) -> None:
            checks[name](server_with(name))

        @pytest.mark.parametrize("name", sorted(checks))
        def test_the_faithful_server_does_not_show_it(request: pytest.FixtureRequest, name: str) -> None:
            server = request.getfixturevalue(faithful_fixture)
            with pytest.raises(AssertionError):
                checks[name](server)

        return (test_every_fault_and_variant_has_a_check, test_fault_or_variant_changes_what_it_says,
                test_the_faithful_server_does_not_show_it)
