"""Start the reference servers on loopback, in this process, for a run or for `serve`.

    with running_servers(["itslearning"], faults=["send-200"]) as servers:
        servers.base_urls["itslearning"]   # "http://127.0.0.1:54321"
        servers.targets_toml()             # a targets file describing them (contracts.md §2)

Each API gets one uvicorn server in a daemon thread. We bind its socket ourselves before
the thread starts, so the port is known at once (port 0 = a free one) and a taken port is
an immediate, clear error. Every app is wrapped in `_limits.bounded` (request bodies over
8 MiB get 413 unread, slow bodies 408) and uvicorn serves a bounded number of connections.
Uvicorn then serves on that socket; on exit we ask every server
to stop and wait for its thread. Uvicorn's own logging stays quiet: warnings only, to
stderr (we leave the host's logging configuration alone).

`serve_forever` is `msgconform serve`: start every server, print the targets file to
stdout, block until Ctrl-C or SIGTERM, stop cleanly.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

import uvicorn

from msgconform.servers import AVAILABLE, BASE_PATHS, TARGET_TABLES, TARGET_USERS
from msgconform.servers._limits import MAX_CONNECTIONS, bounded
from msgconform.servers._protocol import HeadBoundedHttpTools
from msgconform.servers.faults import FaultSet, lookup

__all__ = ["PORT_OFFSETS", "RunningServers", "running_servers", "serve_forever"]

# contracts.md: `serve --port N` puts each API at a fixed offset from N.
PORT_OFFSETS = {"itslearning": 0, "completeempire": 1, "highq": 2, "superoffice": 3}
START_TIMEOUT = 10.0
SMALL_BODY_LIMIT = 1024  # bytes: the `small-body-limit` variant (a vendor's size limit is its own choice)


class RunningServers:
    """What `running_servers` yields: where each server listens, and how to describe it."""

    def __init__(self, base_urls: dict[str, str], faults: dict[str, FaultSet]) -> None:
        self.base_urls = base_urls
        self.faults = faults

    def targets_toml(self) -> str:
        """A targets file (contracts.md section 2) naming these servers and their users."""
        blocks = []
        for api, url in self.base_urls.items():
            blocks.append(f"[{api}]\nbase_url = {_toml(url)}\n")
            for role, user in TARGET_USERS[api]().items():
                lines = [f"[{api}.users.{role}]"] + [f"{key} = {_toml(value)}" for key, value in user.items()]
                blocks.append("\n".join(lines) + "\n")
            for table, keys in TARGET_TABLES.get(api, {}).items():
                lines = [f"[{api}.{table}]"] + [f"{key} = {_toml(value)}" for key, value in keys.items()]
                blocks.append("\n".join(lines) + "\n")
        return "\n".join(blocks)


def _toml(value: Any) -> str:
    """A TOML scalar: integers as they are, strings as basic strings; a table of strings
    (a user's `headers`) inline."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"cannot write {type(value).__name__} into a targets file")
    return str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=False)


def _fault_sets(apis: Sequence[str], names: Iterable[str]) -> dict[str, FaultSet]:
    """Split fault names by API; a name applies to every started API that defines it."""
    chosen: dict[str, set[str]] = {api: set() for api in apis}
    for name in names:
        owners = [entry.api for entry in lookup(name)]  # UnknownFault if no API has it
        started = [api for api in owners if api in chosen]
        if not started:
            raise ValueError(f"fault {name!r} belongs to {', '.join(owners)}, which is not being started")
        for api in started:
            chosen[api].add(name)
    return {api: FaultSet(names, api=api) for api, names in chosen.items()}


def _body_limit(faults: FaultSet) -> dict[str, int]:
    """The `small-body-limit` variant, for any API whose faults.yaml entries declare it."""
    return {"max_body": SMALL_BODY_LIMIT} if "small-body-limit" in faults else {}


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP;
    # with proto 0 every keep-alive response would wait ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextmanager
def running_servers(
    apis: Sequence[str], faults: Iterable[str] = (), host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningServers]:
    """Run one reference server per API until the block ends; see the module docstring."""
    missing = [api for api in apis if api not in AVAILABLE]
    if missing:
        have = ", ".join(sorted(AVAILABLE))
        raise ValueError(f"no reference server for {', '.join(missing)} (this version has: {have})")
    if not apis:
        raise ValueError("no API to start")
    fault_sets = _fault_sets(apis, faults)
    logging.getLogger("uvicorn").setLevel(logging.WARNING)

    started: list[tuple[uvicorn.Server, threading.Thread, socket.socket]] = []
    try:
        base_urls = {}
        for api in apis:
            sock = _bind(host, port + PORT_OFFSETS[api] if port else 0)
            config = uvicorn.Config(
                # request size and time limits (_limits); the small-body-limit variant: 1 KiB
                bounded(AVAILABLE[api](fault_sets[api]), **_body_limit(fault_sets[api])),
                log_config=None,
                log_level="warning",
                access_log=False,
                server_header=False,
                lifespan="off",
                timeout_graceful_shutdown=2,
                limit_concurrency=MAX_CONNECTIONS,
                http=HeadBoundedHttpTools,  # httptools' parser, heads bounded (_protocol)
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(
                target=server.run, kwargs={"sockets": [sock]}, name=f"msgconform-{api}", daemon=True
            )
            thread.start()
            started.append((server, thread, sock))
            base_urls[api] = _url(host, sock.getsockname()[1]) + BASE_PATHS.get(api, "")
        deadline = time.monotonic() + START_TIMEOUT
        for (server, thread, _), api in zip(started, apis, strict=True):
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"the {api} reference server did not start")
                time.sleep(0.01)
        yield RunningServers(base_urls, fault_sets)
    finally:
        for server, _, _ in started:
            server.should_exit = True
        for _, thread, sock in started:
            thread.join(timeout=START_TIMEOUT)
            sock.close()


def serve_forever(
    apis: Sequence[str] | None = None,
    faults: Iterable[str] = (),
    host: str = "127.0.0.1",
    port: int = 0,
    out: IO[str] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """`msgconform serve`: start the servers, write the targets file to `out` (stdout),
    then block until Ctrl-C, SIGTERM or `stop` is set, and stop them cleanly.

    Raises UnknownFault or ValueError (usage errors) and OSError (port taken) before
    anything is written to `out`.
    """
    stop = stop or threading.Event()
    out = out or sys.stdout
    # Ctrl-C and SIGTERM both just set `stop`: a KeyboardInterrupt raised wherever the main
    # thread happens to be (inside a lock's wait, say) could leave the shutdown hanging.
    restore: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            restore[stop_signal] = signal.signal(stop_signal, lambda *_: stop.set())
    try:
        with running_servers(list(apis or AVAILABLE), faults, host, port) as servers:
            out.write(servers.targets_toml())
            out.flush()
            while not stop.wait(0.2):
                pass
    finally:
        for stop_signal, previous in restore.items():
            signal.signal(stop_signal, previous)
