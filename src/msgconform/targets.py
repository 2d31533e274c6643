"""The targets file: which systems a run tests, and as whom (contracts.md section 2).

A targets file is TOML with one table per API. This module reads it into plain, frozen
dataclasses and refuses anything it does not understand, so that the rest of msgconform
never sees a half-valid target:

    targets = load_targets(Path("targets.toml"))
    its = targets["itslearning"]
    its.base_url, its.users["sender"].headers, its.timeout, its.is_loopback

Design:

- What each API needs (its roles, whether a user has an integer or UUID ``id``, an
  ``email``, an ``smtp`` table) is data in `_RULES`, one row per API. `SUPPORTED_APIS`
  says which of them this version can test; the others are refused by name.
- Tables are read through `_Table`, which refuses unknown keys as soon as it sees them
  and builds every message from the file name and the key path
  (``targets.toml: itslearning.timeot: unknown key``). Messages never quote values, so a
  token cannot leak through an error; ``User`` and ``ApiTarget`` reprs hide header values
  and proxy passwords.
- ``"${NAME}"`` (the whole string, nothing around it) is replaced by the environment
  variable NAME when the value is read.
- Defaults are resolved here (``rate_limit``, ``max_requests`` and ``max_duration``
  depend on whether the host is loopback), so ``ApiTarget`` holds the effective values.
- `dump_targets` writes the same format back (with tomli-w) with every value resolved (``headers``
  tables, never ``token`` or ``${NAME}``): the runner uses it to hand targets to the
  suite's subprocess. Its output holds secrets; write it with owner-only permissions.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, NoReturn, overload
from urllib.parse import urlsplit

import tomli_w

from msgconform.errors import TargetsError
from msgconform.limits import DEFAULT_MAX_RESPONSE_BYTES  # a cap on each answer's decoded size

__all__ = [
    "KNOWN_APIS",
    "SUPPORTED_APIS",
    "ApiTarget",
    "Smtp",
    "Targets",
    "TargetsError",
    "User",
    "dump_targets",
    "load_targets",
    "parse_targets",
]


@dataclass(frozen=True)
class _Rules:
    roles: tuple[str, ...]
    id: str | None  # "integer", "uuid", or None: users have no id key
    email: bool  # users need an email key (and may only have one when True)
    smtp: bool = False  # the API has an [api.smtp] table


_RULES: dict[str, _Rules] = {
    "itslearning": _Rules(("sender", "recipient", "bcc", "outsider"), id="integer", email=False),
    "completeempire": _Rules(("sender", "recipient"), id="uuid", email=True),
    "highq": _Rules(("sender", "recipient"), id="integer", email=False),
    "superoffice": _Rules(("sender",), id=None, email=True, smtp=True),
}

KNOWN_APIS: tuple[str, ...] = tuple(_RULES)
"""Every API the targets file format knows, in contract order."""

SUPPORTED_APIS: tuple[str, ...] = ("itslearning", "completeempire", "highq", "superoffice")
"""The APIs this version can test; a known API not listed here is refused."""

DEFAULT_TIMEOUT = 10.0
REMOTE_RATE_LIMIT = 5.0  # requests per second, when the host is not loopback
REMOTE_MAX_REQUESTS = 2000  # per API and run, when the host is not loopback
REMOTE_MAX_DURATION = 900.0  # seconds for one API's whole run, when the host is not loopback

_API_KEYS = {
    "base_url",
    "users",
    "timeout",
    "rate_limit",
    "max_requests",
    "verify",
    "proxy",
    "max_response_bytes",
    "max_duration",
}
_SMTP_KEYS = {"listen", "port", "advertise", "imap_port"}
REMOTE_MAX_EMAILS = 50  # per run, when the SuperOffice target is not loopback
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token (RFC 9110)
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


# --- the model ---------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class User:
    """One account the suite acts as. ``headers`` go with every request it makes."""

    role: str
    id: int | str | None
    name: str | None
    email: str | None
    headers: dict[str, str]

    def __repr__(self) -> str:
        hidden = dict.fromkeys(self.headers, "***")
        return f"User(role={self.role!r}, id={self.id!r}, name={self.name!r}, email={self.email!r}, headers={hidden!r})"


@dataclass(frozen=True)
class Smtp:
    """The SMTP sink the suite starts for SuperOffice (``[superoffice.smtp]``)."""

    listen: str = "127.0.0.1"  # where the sink binds
    port: int = 0  # 0: any free port
    advertise: str = "127.0.0.1"  # the host name the target is told to connect to
    imap_port: int | None = None  # an IMAP sink as well (0: any free port); None: none offered


@dataclass(frozen=True, repr=False)
class ApiTarget:
    """One API under test, with every default resolved."""

    api: str
    base_url: str  # without a trailing slash
    users: dict[str, User]  # role -> user, in the API's role order
    timeout: float = DEFAULT_TIMEOUT  # seconds for a whole exchange, connect to the answer's last byte
    rate_limit: float | None = None  # requests per second; None: unlimited
    max_requests: int | None = None  # cap for the whole run; None: no cap
    verify: bool | str = True  # or the path of a CA bundle
    proxy: str | None = None
    smtp: Smtp | None = None  # superoffice only
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES  # decoded size of one answer
    max_duration: float | None = None  # seconds for the API's whole run; None: no bound
    max_emails: int | None = None  # superoffice only: e-mails the run may ask to be sent

    @property
    def is_loopback(self) -> bool:
        return _is_loopback(urlsplit(self.base_url).hostname or "")

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.proxy is not None:
            shown["proxy"] = _hide_password(self.proxy)
        return "ApiTarget(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


class Targets(Mapping[str, ApiTarget]):
    """The APIs a run tests: a read-only mapping of API name to `ApiTarget`."""

    def __init__(self, apis: Mapping[str, ApiTarget]) -> None:
        self._apis = dict(apis)

    def __getitem__(self, api: str) -> ApiTarget:
        return self._apis[api]

    def __iter__(self) -> Iterator[str]:
        return iter(self._apis)

    def __len__(self) -> int:
        return len(self._apis)

    def __repr__(self) -> str:
        return f"Targets({self._apis!r})"

    def select(self, apis: Iterable[str]) -> Targets:
        """Only the named APIs (``--api``), in the order given; all of them when none is named."""
        names = list(dict.fromkeys(apis))
        for name in names:
            if name not in _RULES:
                raise TargetsError(f"--api {name}: unknown API (expected {', '.join(KNOWN_APIS)})")
            if name not in self._apis:
                raise TargetsError(f"--api {name}: not in the targets file")
        return Targets({name: self._apis[name] for name in names}) if names else self

    def to_toml(self) -> str:
        return dump_targets(self)


# --- reading -------------------------------------------------------------------------------


def load_targets(path: Path, *, environ: Mapping[str, str] = os.environ) -> Targets:
    """Read a targets file; relative CA bundle paths are taken from the file's folder."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise TargetsError(f"{path}: cannot read the targets file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TargetsError(f"{path}: not UTF-8 text") from None
    return parse_targets(text, str(path), environ=environ, base_dir=path.parent)


def parse_targets(
    text: str,
    source: str = "<targets>",
    environ: Mapping[str, str] = os.environ,
    *,
    base_dir: Path | None = None,
) -> Targets:
    """Parse targets-file text; ``source`` names it in messages, ``base_dir`` anchors paths."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TargetsError(f"{source}: malformed TOML: {exc}") from None
    ctx = _Context(source, environ, Path.cwd() if base_dir is None else Path(base_dir))
    for api in data:
        if api not in _RULES:
            ctx.fail((api,), f"unknown API (expected {', '.join(KNOWN_APIS)})")
        if api not in SUPPORTED_APIS:
            supported = ", ".join(SUPPORTED_APIS)
            ctx.fail((api,), f"not supported yet by this version (supported: {supported})")
    if not data:
        raise TargetsError(f"{source}: names no API (expected one of {', '.join(SUPPORTED_APIS)})")
    root = _Table(data, (), ctx)
    return Targets({api: _read_api(api, root.table(api, _api_keys(_RULES[api]), required=True)) for api in data})


@dataclass(frozen=True)
class _Context:
    source: str
    environ: Mapping[str, str]
    base_dir: Path

    def fail(self, path: tuple[str, ...], message: str) -> NoReturn:
        raise TargetsError(f"{self.source}: {_dotted(path)}: {message}")


class _Table:
    """A TOML table being read. Unknown keys are refused up front; values are read by key
    with ``${NAME}`` resolved and their type checked, and failures name the key path."""

    def __init__(
        self, data: dict[str, Any], path: tuple[str, ...], ctx: _Context, allowed: Iterable[str] | None = None
    ) -> None:
        self.data, self.path, self.ctx = data, path, ctx
        if allowed is not None:
            for key in data:
                if key not in allowed:
                    self.fail(key, "unknown key")

    def fail(self, key: str | None, message: str) -> NoReturn:
        self.ctx.fail(self.path if key is None else (*self.path, key), message)

    def get(self, key: str, kind: str, *, required: bool = False) -> Any:
        """The value of ``key`` (None if absent), checked to be of ``kind``:
        "string", "integer", "number", "boolean" or "table"."""
        if key not in self.data:
            if required:
                self.fail(key, "missing required key")
            return None
        value = self.data[key]
        if isinstance(value, str):
            value = self._from_environ(key, value)
        if not _is_kind(value, kind):
            article = "an" if kind[0] in "aeiou" else "a"
            self.fail(key, f"must be {article} {kind}, not {_kind_of(value)}")
        return value

    @overload
    def table(self, key: str, allowed: Iterable[str] | None = None, *, required: Literal[True]) -> _Table: ...

    @overload
    def table(self, key: str, allowed: Iterable[str] | None = None, *, required: bool = False) -> _Table | None: ...

    def table(self, key: str, allowed: Iterable[str] | None = None, *, required: bool = False) -> _Table | None:
        value = self.get(key, "table", required=required)
        return None if value is None else _Table(value, (*self.path, key), self.ctx, allowed)

    @overload
    def text(self, key: str, *, required: Literal[True]) -> str: ...

    @overload
    def text(self, key: str, *, required: bool = False) -> str | None: ...

    def text(self, key: str, *, required: bool = False) -> str | None:
        """A non-empty string without line breaks."""
        value = self.get(key, "string", required=required)
        if value is not None and (not value or "\n" in value or "\r" in value):
            self.fail(key, "must be a non-empty string on one line")
        return value

    def positive(self, key: str, kind: str) -> Any:
        value = self.get(key, kind)
        if value is not None and not (math.isfinite(value) and value > 0):
            self.fail(key, "must be greater than 0")
        return value

    def _from_environ(self, key: str, value: str) -> str:
        match = _ENV_REF.fullmatch(value)
        if match is None:
            return value
        name = match.group(1)
        if name not in self.ctx.environ:
            self.fail(key, f"environment variable {name} is not set")
        return self.ctx.environ[name]


def _read_api(api: str, table: _Table) -> ApiTarget:
    rules = _RULES[api]
    base_url = _read_url(table, "base_url", ("http", "https"), required=True)
    parts = urlsplit(base_url)
    if parts.username is not None:
        table.fail("base_url", "must not contain credentials (put them in the users' headers)")
    if parts.query or parts.fragment:
        table.fail("base_url", "must not have a query or fragment")
    loopback = _is_loopback(parts.hostname or "")

    users_table = table.table("users", required=True)
    for role in users_table.data:
        if role not in rules.roles:
            users_table.fail(role, f"unknown role (roles: {', '.join(rules.roles)})")
    users = {}
    for role in rules.roles:
        user_table = users_table.table(role, _user_keys(rules))
        if user_table is None:
            users_table.fail(role, "missing required role")
        users[role] = _read_user(role, user_table, rules)

    # Values are > 0 when given, so `or` only fills in absent ones. The limits that
    # protect a shared system do not apply on loopback unless asked for.
    timeout = table.positive("timeout", "number") or DEFAULT_TIMEOUT
    rate_limit = table.positive("rate_limit", "number") or (None if loopback else REMOTE_RATE_LIMIT)
    max_requests = table.positive("max_requests", "integer") or (None if loopback else REMOTE_MAX_REQUESTS)
    max_response_bytes = table.positive("max_response_bytes", "integer") or DEFAULT_MAX_RESPONSE_BYTES
    max_duration = table.positive("max_duration", "number") or (None if loopback else REMOTE_MAX_DURATION)
    return ApiTarget(
        api=api,
        base_url=base_url.rstrip("/"),
        users=users,
        timeout=float(timeout),
        rate_limit=None if rate_limit is None else float(rate_limit),
        max_requests=max_requests,
        verify=_read_verify(table),
        proxy=_read_url(table, "proxy", ("http", "https", "socks5", "socks5h")),
        smtp=_read_smtp(table.table("smtp", _SMTP_KEYS)) if rules.smtp else None,
        max_response_bytes=max_response_bytes,
        max_duration=None if max_duration is None else float(max_duration),
        max_emails=(table.positive("max_emails", "integer") or (None if loopback else REMOTE_MAX_EMAILS))
        if rules.smtp
        else None,
    )


def _api_keys(rules: _Rules) -> set[str]:
    return _API_KEYS | ({"smtp", "max_emails"} if rules.smtp else set())


def _user_keys(rules: _Rules) -> set[str]:
    keys = {"name", "token", "headers"}
    keys |= {"id"} if rules.id else set()
    keys |= {"email"} if rules.email else set()
    return keys


def _read_user(role: str, table: _Table, rules: _Rules) -> User:
    user_id: int | str | None = None
    if rules.id == "integer":
        user_id = table.get("id", "integer", required=True)
    elif rules.id == "uuid":
        text_id: str = table.get("id", "string", required=True)
        if not _UUID.fullmatch(text_id):
            table.fail("id", "must be a UUID such as 73067954-43ed-4f1e-b2ba-c18e22e9e1fc")
        user_id = text_id
    email = table.text("email", required=True) if rules.email else None
    if email is not None and not _EMAIL.fullmatch(email):
        table.fail("email", "must be an e-mail address")

    if "token" in table.data and "headers" in table.data:
        table.fail(None, "give either token or headers, not both")
    if "token" in table.data:
        headers = {"Authorization": f"Bearer {table.text('token')}"}
    elif "headers" in table.data:
        headers = _read_headers(table.table("headers", required=True))
    else:
        table.fail(None, "give token or headers (the credentials sent with this user's requests)")
    return User(role=role, id=user_id, name=table.text("name"), email=email, headers=headers)


def _read_headers(table: _Table) -> dict[str, str]:
    headers = {}
    for name in table.data:
        if not _HEADER_NAME.fullmatch(name):
            table.fail(name, "not a valid HTTP header name")
        value = table.get(name, "string")
        if "\n" in value or "\r" in value:
            table.fail(name, "must not contain line breaks")
        headers[name] = value
    return headers


@overload
def _read_url(table: _Table, key: str, schemes: tuple[str, ...], *, required: Literal[True]) -> str: ...


@overload
def _read_url(table: _Table, key: str, schemes: tuple[str, ...], *, required: bool = False) -> str | None: ...


def _read_url(table: _Table, key: str, schemes: tuple[str, ...], *, required: bool = False) -> str | None:
    # Never quote the URL itself in a message: a proxy URL may carry a password.
    value = table.text(key, required=required)
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        table.fail(key, "not a valid URL")
    if parts.scheme.lower() not in schemes or not parts.hostname:
        table.fail(key, f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
    return value


def _read_verify(table: _Table) -> bool | str:
    value = table.get("verify", "boolean or string")
    if value is None or isinstance(value, bool):
        return True if value is None else value
    if not value or "\n" in value or "\r" in value:
        table.fail("verify", "must be true, false or the path of a CA bundle")
    path = (table.ctx.base_dir / Path(value).expanduser()).resolve()
    if not path.exists():
        table.fail("verify", f"CA bundle not found: {path}")
    return str(path)


def _read_smtp(table: _Table | None) -> Smtp:
    if table is None:
        return Smtp()
    listen = table.text("listen") or Smtp.listen
    port = table.get("port", "integer")
    if port is not None and not 0 <= port <= 65535:
        table.fail("port", "must be between 0 and 65535")
    advertise = table.text("advertise")
    if advertise is None and _is_unspecified(listen):
        table.fail("advertise", "missing required key (listen is a wildcard address)")
    imap_port = table.get("imap_port", "integer")
    if imap_port is not None and not 0 <= imap_port <= 65535:
        table.fail("imap_port", "must be between 0 and 65535")
    return Smtp(
        listen=listen, port=Smtp.port if port is None else port, advertise=advertise or listen, imap_port=imap_port
    )


# --- writing -------------------------------------------------------------------------------


def dump_targets(targets: Mapping[str, ApiTarget]) -> str:
    """The targets as a targets file that `parse_targets` reads back to equal targets.

    Written by tomli-w (no comment has to survive here). Every field of `ApiTarget`,
    `User` and `Smtp` that has a value is written, so a key added to them travels to the
    suite without a change here. Values are written resolved (headers, not tokens; no
    ``${NAME}``), so the text holds secrets. A value that itself reads ``${NAME}`` would be
    resolved again when read back.
    """
    document: dict[str, Any] = {}
    for api, target in targets.items():
        table = _present(target, skip=("api", "users", "smtp"))
        table["users"] = {
            role: {**_present(user, skip=("role", "headers")), "headers": dict(user.headers)}
            for role, user in target.users.items()
        }
        if target.smtp is not None:
            table["smtp"] = _present(target.smtp)
        document[api] = table
    return tomli_w.dumps(document)


def _present(item: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A dataclass's fields that are not None, by name (TOML has no null)."""
    values = {f.name: getattr(item, f.name) for f in fields(item) if f.name not in skip}
    return {name: value for name, value in values.items() if value is not None}


def _key(key: str) -> str:
    """A key as TOML writes it: bare, or quoted (for messages naming a key path)."""
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


# --- small helpers -------------------------------------------------------------------------


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(_key(part) for part in path)


def _is_kind(value: Any, kind: str) -> bool:
    if kind == "boolean or string":
        return isinstance(value, (bool, str))
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "boolean": bool, "table": dict}[kind])


def _kind_of(value: Any) -> str:
    """The TOML type of a value, for messages that must not quote the value."""
    for kind, python_type in (
        ("a boolean", bool),
        ("an integer", int),
        ("a float", float),
        ("a string", str),
        ("a table", dict),
        ("an array", list),
    ):
        if isinstance(value, python_type):
            return kind
    return "a date or time"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback  # 127.0.0.0/8 and ::1
    except ValueError:
        return False


def _is_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified  # 0.0.0.0 and ::
    except ValueError:
        return False


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()
