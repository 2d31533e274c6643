"""Reference implementations of the vendor APIs, with named faults and variants.

Each server is a Starlette app built by a factory `create_app(faults)` that takes the names
of the faults and variants to switch on (see `faults.yaml`) and returns an app with fresh
state. `AVAILABLE` maps an API name to its factory; `TARGET_USERS` maps it to the users a
targets file needs for it (role -> {id, name, token}, or {email, name, headers}); `BASE_PATHS` gives the path a
server's base URL ends with, for an API whose base URL is more than a host (HighQ's
`/{instance}/api`). `embedded.running_servers` starts
them on loopback for a run, `embedded.serve_forever` for `msgconform serve`.

Servers import only core modules and their web stack, never the plugin, suites or pytest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from msgconform.servers import completeempire, highq, itslearning, superoffice

AppFactory = Callable[[Iterable[str]], Any]

AVAILABLE: dict[str, AppFactory] = {
    "itslearning": itslearning.create_app,
    "completeempire": completeempire.create_app,
    "highq": highq.create_app,
    "superoffice": superoffice.create_app,
}
TARGET_USERS: dict[str, Callable[[], dict[str, dict[str, Any]]]] = {
    "itslearning": itslearning.target_users,
    "completeempire": completeempire.target_users,
    "highq": highq.target_users,
    "superoffice": superoffice.target_users,
}
BASE_PATHS: dict[str, str] = {"highq": "/demo/api"}
# Other tables a targets file for the embedded servers has, per API (table -> keys).
TARGET_TABLES: dict[str, dict[str, dict[str, Any]]] = {"superoffice": {"smtp": {"imap_port": 0}}}

__all__ = ["AVAILABLE", "BASE_PATHS", "TARGET_TABLES", "TARGET_USERS", "AppFactory"]
