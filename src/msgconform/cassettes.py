"""Cassettes: what a recorded run wrote, and the rules for writing and matching it.

Recording and replay are done by vcrpy, through pytest-recording, inside the suite's
pytest subprocess (see `msgconform.plugin.recording`). This module holds what both the
runner and the plugin need and that has nothing to do with pytest:

- the layout: `<cassette-dir>/manifest.json` and `<cassette-dir>/<api>/<test>.yaml`, one
  small cassette per test (vcrpy's matching is quadratic in a cassette's size), and beside
  a Schemathesis test's cassette `<test>.cases.jsonl`, the cases it generated, which its
  replay sends again instead of generating them (`msgconform.plugin.stored_cases`);
- the manifest: how the run was recorded (seed, max-examples, users' ids and roles,
  spec digests, tool version), so that replay needs no targets file and no credentials,
  and refuses, in one line, to replay what was recorded differently. Its shape is the
  pydantic model `Manifest` (strict JSON types; keys it does not know are ignored, since
  only msgconform writes the file and the version check refuses another version's);
  `read_manifest` validates with it and hands back the JSON object;
- redaction, applied before anything is written: credentials in headers and query
  strings, secrets inside bodies (JSON or XML), Set-Cookie in responses;
- body normalization for matching: JSON key order and XML prefixes do not matter;
- all-or-nothing recording: a run records into a fresh folder beside the old one and
  replaces it only when the run has finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, ValidationError

from msgconform import __version__, _resources
from msgconform._validation import first_problem
from msgconform.errors import UsageError
from msgconform.targets import Targets, parse_targets

MANIFEST = "manifest.json"
CASES_SUFFIX = ".cases.jsonl"  # beside `<test>.yaml`: the cases a Schemathesis test generated
PLACEHOLDER = "[redacted]"  # safe in headers, JSON and XML text
SECRET_HEADERS = ("authorization", "cookie", "x-xsrf-token", "so-apptoken", "proxy-authorization")
SECRET_QUERY = ("access_token", "token", "password")
SECRET_KEYS = re.compile(r"pass(word)?|secret|token|apikey|api_key", re.I)
VOLATILE_HEADERS = ("x-schemathesis-testcaseid",)
INVALID_TOKEN = "msgconform-invalid"  # the credentials the suite sends on purpose to be refused
# The mail sinks' addresses (host:port, new in every run) as recorded requests carry them; the
# manifest names them, and a replay puts exactly these into the requests it sends.
SMTP_SINK_ADDRESS = "[msgconform-smtp-sink]"
IMAP_SINK_ADDRESS = "[msgconform-imap-sink]"


class CassetteError(UsageError):
    """Cassettes missing, broken, or recorded differently from how replay is asked to run (status 2)."""


# --- redaction -------------------------------------------------------------------------

# Values made for one run that a body may carry (the SMTP sink's fresh credentials, its
# address with a port that changes from run to run): value -> what replaces it.
_RUN_VALUES: dict[str, str] = {}


def register_run_value(value: str, placeholder: str = PLACEHOLDER) -> None:
    """Replace `value` by `placeholder` wherever a body is redacted from now on (cassettes,
    reports): a secret of the run, or a value that differs between two recordings of the
    same run. Values shorter than 8 characters are refused: they would mangle text."""
    if len(value) < 8:
        raise ValueError("a run value to redact must have at least 8 characters")
    _RUN_VALUES[value] = placeholder


def redact_run_values(data: bytes) -> bytes:
    """Only the registered run values replaced, in bytes that are not a JSON or XML body (a
    delivered e-mail, as a cassette's `.mail.json` keeps it)."""
    for value in sorted(_RUN_VALUES, key=len, reverse=True):
        data = data.replace(value.encode("utf-8"), _RUN_VALUES[value].encode("utf-8"))
    return data


def is_secret_header(name: str, value: Any) -> bool:
    """Whether a request header carries a credential that a cassette keeps as `PLACEHOLDER`.
    The suite's own deliberately invalid credentials are no secret, and must stay apart
    from real ones in the cassette, so that replay can tell the two requests apart."""
    value = value[0] if isinstance(value, list) and value else value
    return name.lower() in SECRET_HEADERS and INVALID_TOKEN not in str(value)


def redact_body(body: bytes | str | None) -> bytes | str | None:
    """Secrets inside a JSON or XML body become placeholders; other bodies pass unchanged."""
    if not body:
        return body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if _RUN_VALUES:
        original = text
        for value in sorted(_RUN_VALUES, key=len, reverse=True):
            text = text.replace(value, _RUN_VALUES[value])
        if text != original:
            body = text.encode("utf-8") if isinstance(body, bytes) else text
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except ValueError:
            redacted = text
        else:
            redacted = json.dumps(_redact_value(value), ensure_ascii=False, separators=(",", ":"))
    elif stripped.startswith("<"):
        redacted = re.sub(
            r"(<(?:[\w.-]+:)?([\w.-]+)(?:\s[^>]*)?>)([^<]*)(</(?:[\w.-]+:)?\2>)",
            lambda m: (
                m.group(1)
                + (PLACEHOLDER if SECRET_KEYS.fullmatch(m.group(2)) and m.group(3) else m.group(3))
                + m.group(4)
            ),
            text,
        )
    else:
        redacted = text
    if redacted == text:
        return body
    return redacted.encode("utf-8") if isinstance(body, bytes) else redacted


def _redact_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: PLACEHOLDER if SECRET_KEYS.fullmatch(str(k)) and v not in (None, "") else _redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    return value


# --- matching ------------------------------------------------------------------------


def normalized_body(body: bytes | str | None) -> Any:
    """A body in a form where JSON key order and XML prefixes and formatting do not matter."""
    if not body:
        return None
    return _normalized(body if isinstance(body, bytes) else body.encode("utf-8"))


@lru_cache(maxsize=4096)  # replay compares each request with every recorded one
def _normalized(body: bytes) -> Any:
    text = body.decode("utf-8", "replace")
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return ("json", json.dumps(json.loads(text), sort_keys=True))
        except ValueError:
            return ("text", text)
    if stripped.startswith("<"):
        return ("xml", _xml_shape(text))
    return ("text", text)


def _xml_shape(text: str) -> Any:
    from defusedxml import ElementTree as SafeET  # refuses DTDs and entities

    try:
        root = SafeET.fromstring(text, forbid_dtd=True)
    except Exception:  # noqa: BLE001 - hostile or malformed XML is compared as text
        return text

    def shape(element) -> tuple:
        children = tuple(shape(child) for child in element)
        content = (element.text or "").strip() if not children else ""
        return (element.tag, tuple(sorted(element.attrib.items())), content, children)

    return shape(root)


# --- the manifest ------------------------------------------------------------------------


def spec_digest(api: str) -> str:
    return hashlib.sha256(_resources.spec_path(api).read_bytes()).hexdigest()[:16]


_MANIFEST_CONFIG = ConfigDict(extra="ignore", frozen=True, strict=True, hide_input_in_errors=True)


class RecordedUser(BaseModel):
    """A user as the manifest records it: never credentials."""

    model_config = _MANIFEST_CONFIG

    id: int | str | None = None
    name: str | None = None
    email: str | None = None


class RecordedSmtp(BaseModel):
    """A SuperOffice recording's sinks: where they bound and the addresses recorded requests
    name them by (absent in recordings older than the key: then the placeholders above)."""

    model_config = _MANIFEST_CONFIG

    listen: str
    advertise: str
    imap: bool = False
    server_name: str = SMTP_SINK_ADDRESS
    imap_server_name: str | None = None


class RecordedApi(BaseModel):
    model_config = _MANIFEST_CONFIG

    base_url: str
    users: dict[str, RecordedUser]
    spec: str  # digest of the spec the recording was made with
    smtp: RecordedSmtp | None = None
    max_emails: int | None = None


def recorded_sink_addresses(manifest: dict, api: str) -> tuple[str, str | None]:
    """The SMTP and IMAP sink addresses that the recorded requests of `api` carry."""
    entry = RecordedApi.model_validate(manifest["apis"][api])
    if entry.smtp is None:
        return SMTP_SINK_ADDRESS, None
    imap = entry.smtp.imap_server_name or (IMAP_SINK_ADDRESS if entry.smtp.imap else None)
    return entry.smtp.server_name, imap


class Manifest(BaseModel):
    """`<cassette-dir>/manifest.json`."""

    model_config = _MANIFEST_CONFIG

    format: Literal[1]
    tool: Literal["msgconform"]
    version: str
    seed: int
    max_examples: int
    apis: dict[str, RecordedApi]


def write_manifest(folder: Path, targets: Targets, *, seed: int, max_examples: int) -> None:
    apis: dict[str, dict[str, Any]] = {}
    for api, target in targets.items():
        apis[api] = {
            "base_url": target.base_url,
            "users": {
                role: {k: v for k, v in (("id", u.id), ("name", u.name), ("email", u.email)) if v is not None}
                for role, u in target.users.items()
            },
            "spec": spec_digest(api),
        }
        if target.smtp is not None:
            # The sinks' addresses change from run to run: recorded requests carry them as
            # the placeholders named here (see suites/superoffice/conftest.py), and a replay
            # names its stand-in sinks so, so that its requests are the recorded ones. What
            # else the replay needs is whether there was an IMAP sink, and the e-mail budget.
            apis[api]["smtp"] = {
                "listen": target.smtp.listen,
                "advertise": target.smtp.advertise,
                "server_name": SMTP_SINK_ADDRESS,
                "imap": target.smtp.imap_port is not None,
            }
            if target.smtp.imap_port is not None:
                apis[api]["smtp"]["imap_server_name"] = IMAP_SINK_ADDRESS
            if target.max_emails is not None:
                apis[api]["max_emails"] = target.max_emails
    manifest = {
        "format": 1,
        "tool": "msgconform",
        "version": __version__,
        "seed": seed,
        "max_examples": max_examples,
        "apis": apis,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise CassetteError(f"{path}: no manifest; record first with `msgconform run --record`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        Manifest.model_validate(manifest)
    except ValidationError as exc:
        raise CassetteError(f"{path}: not a msgconform cassette manifest: {first_problem(exc)}") from None
    except (OSError, ValueError):
        raise CassetteError(f"{path}: not a msgconform cassette manifest (not JSON)") from None
    return manifest


def replay_targets(folder: Path, manifest: dict, apis: Iterable[str]) -> Targets:
    """The targets a replay pretends to test: recorded URLs and users, placeholder credentials."""
    wanted = list(dict.fromkeys(apis)) or list(manifest["apis"])
    missing = [api for api in wanted if api not in manifest["apis"]]
    if missing:
        raise CassetteError(
            f"--replay: {', '.join(missing)} not recorded in {folder} (recorded: {', '.join(manifest['apis'])})"
        )
    document: dict[str, Any] = {}
    for api in wanted:
        entry = manifest["apis"][api]
        if not (folder / api).is_dir():
            raise CassetteError(f"{folder / api}: no cassettes for {api}")
        users = {
            role: {**{k: v for k, v in user.items() if v is not None}, "headers": {"Authorization": PLACEHOLDER}}
            for role, user in entry["users"].items()
        }
        table: dict = {"base_url": entry["base_url"], "users": users}
        if "max_emails" in entry:
            table["max_emails"] = int(entry["max_emails"])
        if isinstance(entry.get("smtp"), dict):
            smtp = entry["smtp"]
            table["smtp"] = {"listen": smtp.get("listen", "127.0.0.1"), "advertise": smtp.get("advertise", "127.0.0.1")}
            if smtp.get("imap"):
                table["smtp"]["imap_port"] = 0
        document[api] = table
    return parse_targets(tomli_w.dumps(document), source=str(folder / MANIFEST), environ={})


def check_replayable(folder: Path, manifest: dict, *, seed: int, max_examples: int) -> None:
    """Refuse, in one line, a replay that would not send what was recorded."""
    if manifest["seed"] != seed or manifest["max_examples"] != max_examples:
        raise CassetteError(
            f"--replay: {folder} was recorded with seed {manifest['seed']} and --max-examples "
            f"{manifest['max_examples']}, not seed {seed} and --max-examples {max_examples}"
        )
    if manifest.get("version") != __version__:
        raise CassetteError(
            f"--replay: {folder} was recorded by msgconform {manifest.get('version')}, "
            f"this is {__version__}; record again"
        )


# --- all-or-nothing recording ----------------------------------------------------------------


def fresh_folder(final: Path) -> Path:
    """An empty folder beside `final` to record into."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.recording-", dir=final.parent))


def commit_folder(fresh: Path, final: Path) -> None:
    """Put a finished recording in place of the old one (the old one is kept until then)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(fresh, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
