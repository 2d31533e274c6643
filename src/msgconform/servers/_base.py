"""What every reference server shares: its faults, its body plumbing, and a plain ASGI
endpoint that hands every method of a route to one handler (the server answers 405 itself,
in the vendor's own error format).

    class _Server(ReferenceServer):
        API = "highq"

        def new_store(self) -> _Store: ...

    server = _Server(fault_set(faults, API))
    Route(PATH, Endpoint(server.endpoint))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from msgconform.servers._http import Bodies
from msgconform.servers.faults import FaultSet


def fault_set(faults: Iterable[str] | FaultSet, api: str) -> FaultSet:
    """`create_app` takes names or a FaultSet; this gives the FaultSet."""
    return faults if isinstance(faults, FaultSet) else FaultSet(faults, api=api)


class ReferenceServer:
    """The state every reference server starts with: `faults`, `bodies`, and its own `store`."""

    API = ""

    def __init__(self, faults: FaultSet) -> None:
        self.faults = faults
        self.bodies = Bodies(self.API)
        self.store = self.new_store()

    def new_store(self) -> Any:
        """A fresh store for this server's state (subclasses say what it holds)."""
        raise NotImplementedError


class Endpoint:
    """A plain ASGI endpoint, so that Starlette routes every method to it (we answer 405)."""

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)
